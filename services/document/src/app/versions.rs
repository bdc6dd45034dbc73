//! Versions (§4.2): content streamed in while it is hashed, stored once
//! per hash, and streamed out to those who may see it. No transaction is
//! open while content moves.

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt as _};
use procedo_platform::error::Error;
use procedo_platform::etag;
use procedo_platform::identity::Actor;
use procedo_platform::paging::Page;
use prost::Message;

use super::{App, Call, events, refused, visible};
use crate::domain::version::{UploadMeta, Version};
use crate::store;

/// A version and its content, on its way out.
pub struct Download {
    pub version: Version,
    pub content: BoxStream<'static, Result<Bytes, Error>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Stores the content `chunks` yield as the next version of
    /// `meta.document_id`. An error in the stream (the caller went away),
    /// or content over the size limit, stores nothing.
    pub async fn upload<M: Message + Default>(
        &self,
        call: &Call,
        meta: UploadMeta,
        chunks: impl Stream<Item = Result<Bytes, Error>>,
        respond: impl FnOnce(&Version) -> M,
    ) -> Result<M, Error> {
        // Refuse at once what would be refused after the content arrived.
        {
            let mut conn = self.db().reader().acquire().await?;
            let document = visible(&mut conn, &meta.document_id, &call.actor).await?;
            etag::check(&document.resource(), &meta.etag, document.version)?;
            document
                .check_upload(&call.actor)
                .map_err(|r| refused(&document.resource(), r))?;
        }
        let max = self.inner.max_bytes;
        let mut upload = self.inner.blobs.begin().await?;
        futures::pin_mut!(chunks);
        while let Some(chunk) = chunks.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    upload.abort().await;
                    return Err(e);
                }
            };
            if upload.size() + chunk.len() as u64 > max {
                upload.abort().await;
                return Err(Error::Exhausted(format!(
                    "the content is larger than the {max} bytes a version may have \
                     (PROCEDO_DOCUMENT_MAX_BYTES)"
                )));
            }
            if let Err(e) = upload.write(&chunk).await {
                upload.abort().await;
                return Err(e);
            }
        }
        let stored = upload.finish().await?;

        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut document = visible(&mut tx, &meta.document_id, &call.actor).await?;
        let resource = document.resource();
        let read_version = document.version;
        etag::check(&resource, &meta.etag, read_version)?;
        document
            .check_upload(&call.actor)
            .map_err(|r| refused(&resource, r))?;
        let now = self.now();
        let version = Version {
            document_id: document.id.clone(),
            version: document.add_version(now),
            content_sha256: stored.sha256,
            size_bytes: i64::try_from(stored.size).unwrap_or(i64::MAX),
            media_type: meta.media_type,
            file_name: meta.file_name,
            change_summary: meta.change_summary,
            author: call.actor.clone(),
            created_at: now,
        };
        store::insert_version(&mut tx, &version).await?;
        store::update_document(&mut tx, &document, read_version)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        events::audit(
            &mut tx,
            &call.actor,
            "document.versions.upload",
            &version.resource(),
            format!(
                "sha256 {} ({} bytes)",
                version.content_sha256, version.size_bytes
            ),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&version)).await
    }

    /// Version `version` of document `id` (the current one when `None`)
    /// with its content; reading confidential content is audited.
    pub async fn download(
        &self,
        actor: &Actor,
        id: &str,
        version: Option<i32>,
    ) -> Result<Download, Error> {
        let (document, found) = {
            let mut conn = self.db().reader().acquire().await?;
            let document = visible(&mut conn, id, actor).await?;
            if document.status == crate::domain::document::Status::Disposed {
                return Err(Error::Precondition {
                    kind: "DISPOSED",
                    resource: document.resource(),
                    description: "was disposed of: its content is gone".into(),
                });
            }
            let wanted = version.unwrap_or(document.current_version);
            let found = store::get_version(&mut conn, id, wanted).await?;
            (document, found)
        };
        let version = found.ok_or_else(|| match version {
            Some(n) => Error::NotFound(format!("documents/{id}/versions/{n}")),
            None => Error::Precondition {
                kind: "CONTENT",
                resource: format!("documents/{id}"),
                description: "has no version yet: upload one first".into(),
            },
        })?;
        self.audit_reads(
            actor,
            std::slice::from_ref(&document),
            &format!("content v{}", version.version),
        )
        .await?;
        let content = self.inner.blobs.read(&version.content_sha256).await?;
        Ok(Download { version, content })
    }

    /// Newest first; the page and the next page's token.
    pub async fn versions(
        &self,
        actor: &Actor,
        id: &str,
        page: &Page,
    ) -> Result<(Vec<Version>, String), Error> {
        {
            let mut conn = self.db().reader().acquire().await?;
            visible(&mut conn, id, actor).await?;
        }
        let mut rows = store::list_versions(self.db(), id, page).await?;
        let next = page.finish(&mut rows, |v| v.version.to_string());
        Ok((rows, next))
    }
}
