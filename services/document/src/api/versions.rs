//! Versions: content streamed in (metadata, then chunks) and out (the
//! version, then chunks).

use bytes::Bytes;
use futures::StreamExt as _;
use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::error::Error;
use procedo_platform::paging::Page;
use procedo_platform::validate::Violations;
use procedo_proto::document as pb;
use procedo_proto::document::download_version_response::Part as Down;
use procedo_proto::document::upload_version_request::Part as Up;
use tonic::{Request, Response, Status, Streaming};

use super::convert::version_to_pb;
use super::documents::AUTHORS;
use super::{DocumentApi, DownloadStream};
use crate::app::Call;
use crate::domain::version::UploadMeta;

/// The largest chunk a download message carries.
const DOWNLOAD_CHUNK: usize = 256 * 1024;

pub async fn upload(
    api: &DocumentApi,
    r: Request<Streaming<pb::UploadVersionRequest>>,
) -> Result<Response<pb::DocumentVersion>, Status> {
    let actor = authorize(&r, AUTHORS)?;
    let mut stream = r.into_inner();
    let Some(pb::UploadVersionRequest {
        part: Some(Up::Metadata(m)),
    }) = stream.message().await?
    else {
        return Err(Error::invalid(
            "metadata",
            "the first message must carry the metadata, the content follows",
        )
        .into());
    };
    let mut v = Violations::new();
    let call = Call::new("UploadVersion", actor, v.request_id(&m.request_id, &m));
    let media_type = v.optional_line("metadata.media_type", &m.media_type, 200);
    let meta = UploadMeta {
        document_id: v.resource_id("metadata.document", "documents", &m.document),
        etag: m.etag,
        media_type: if media_type.is_empty() {
            "application/octet-stream".to_owned()
        } else {
            media_type
        },
        file_name: v.optional_line("metadata.file_name", &m.file_name, 255),
        change_summary: v.optional_text("metadata.change_summary", &m.change_summary, 2_000),
    };
    v.finish()?;
    let chunks = stream.map(|message| match message {
        Ok(pb::UploadVersionRequest {
            part: Some(Up::Chunk(bytes)),
        }) => Ok(Bytes::from(bytes)),
        Ok(_) => Err(Error::invalid(
            "metadata",
            "comes once, in the first message; every later one carries a chunk",
        )),
        Err(status) => Err(Error::invalid(
            "chunk",
            format!("the upload broke off: {}", status.message()),
        )),
    });
    Ok(Response::new(
        api.app.upload(&call, meta, chunks, version_to_pb).await?,
    ))
}

/// The document and version a download names.
pub(super) fn download_target(name: &str, v: &mut Violations) -> (String, Option<i32>) {
    match name.split_once("/versions/") {
        Some((document, version)) => {
            let id = v.resource_id("name", "documents", document);
            let version = version.parse::<i32>().ok().filter(|n| *n > 0);
            if version.is_none() {
                v.add(
                    "name",
                    "must be \"documents/<uuid>/versions/<n>\" (n from 1)",
                );
            }
            (id, version)
        }
        None => (v.resource_id("name", "documents", name), None),
    }
}

pub async fn download(
    api: &DocumentApi,
    r: Request<pb::DownloadVersionRequest>,
) -> Result<Response<DownloadStream>, Status> {
    let actor = authenticated(&r)?;
    let mut v = Violations::new();
    let (id, version) = download_target(&r.get_ref().name, &mut v);
    v.finish()?;
    let download = api.app.download(&actor, &id, version).await?;
    let head = futures::stream::once(async move {
        Ok(pb::DownloadVersionResponse {
            part: Some(Down::Version(version_to_pb(&download.version))),
        })
    });
    let body = download
        .content
        .map(|chunk| match chunk {
            Ok(bytes) => futures::stream::iter(split(bytes).map(|piece| {
                Ok(pb::DownloadVersionResponse {
                    part: Some(Down::Chunk(piece.to_vec())),
                })
            }))
            .boxed(),
            Err(e) => futures::stream::once(async move { Err(Status::from(e)) }).boxed(),
        })
        .flatten();
    Ok(Response::new(Box::pin(head.chain(body))))
}

/// `bytes` in pieces of at most [`DOWNLOAD_CHUNK`].
fn split(mut bytes: Bytes) -> impl Iterator<Item = Bytes> {
    std::iter::from_fn(move || {
        if bytes.is_empty() {
            return None;
        }
        let n = bytes.len().min(DOWNLOAD_CHUNK);
        Some(bytes.split_to(n))
    })
}

pub async fn list(
    api: &DocumentApi,
    r: Request<pb::ListVersionsRequest>,
) -> Result<Response<pb::ListVersionsResponse>, Status> {
    let actor = authenticated(&r)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let id = v.resource_id("document", "documents", &r.document);
    let page = Page::of(&r, &mut v);
    v.finish()?;
    let (rows, next_page_token) = api.app.versions(&actor, &id, &page).await?;
    Ok(Response::new(pb::ListVersionsResponse {
        versions: rows.iter().map(version_to_pb).collect(),
        next_page_token,
    }))
}
