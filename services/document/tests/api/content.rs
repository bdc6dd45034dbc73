//! Content (§4.2): streamed in while hashed, stored once per hash,
//! streamed out; oversize and interrupted uploads store nothing.

use procedo_platform::identity::{Clearance, Role};
use procedo_proto::document as pb;
use procedo_testkit::{Backend, backend_tests};
use sha2::{Digest as _, Sha256};
use tonic::Code;

use crate::helpers::{TestDocument, download, register, upload, violated_fields};

backend_tests!(
    versions_stream_in_and_out_with_their_hash_and_identical_content_is_stored_once,
    an_upload_over_the_limit_or_broken_off_stores_nothing,
    uploads_are_refused_before_the_content_when_they_cannot_succeed,
);

/// Content files under the service's content folder.
fn content_files(app: &TestDocument) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&app.database.data_dir().join("document-content"), &mut out);
    out
}

async fn versions_stream_in_and_out_with_their_hash_and_identical_content_is_stored_once(
    backend: Backend,
) {
    let app = TestDocument::spawn(backend).await;
    app.category("contract", "HT-{seq:6}", pb::NumberReset::Never)
        .await;
    let mut li = app.person("li", "sales", &[Role::Executor], Clearance::Internal);
    let document = li
        .register_document(register("contract", "Supply contract"))
        .await
        .expect("registered")
        .into_inner();
    let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let first = upload(&mut li, &document, &content, 64 * 1024)
        .await
        .expect("uploaded");
    assert_eq!(first.version, 1);
    assert_eq!(first.content_sha256, hex::encode(Sha256::digest(&content)));
    assert_eq!(first.size_bytes, 3_000_000);
    assert_eq!(first.media_type, "text/plain");
    assert_eq!(first.name, format!("{}/versions/1", document.name));

    let (version, read) = download(&mut li, &document.name).await.expect("downloaded");
    assert_eq!(version, first, "the current version");
    assert!(read == content, "the same bytes come back");

    // The same content again (another document, then a new version of
    // this one): stored once.
    let other = li
        .register_document(register("contract", "Copy"))
        .await
        .expect("registered")
        .into_inner();
    upload(&mut li, &other, &content, 1_000_000)
        .await
        .expect("uploaded");
    let current = li
        .get_document(pb::GetDocumentRequest {
            name: document.name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(current.current_version, 1);
    let second = upload(&mut li, &current, b"revised", 3)
        .await
        .expect("uploaded");
    assert_eq!(second.version, 2);
    assert_eq!(content_files(&app).len(), 2, "two distinct contents");
    let (_, old) = download(&mut li, &format!("{}/versions/1", document.name))
        .await
        .expect("the first version");
    assert!(old == content);
    let versions = li
        .list_versions(pb::ListVersionsRequest {
            document: document.name.clone(),
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .versions;
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1]
    );
    let missing = download(&mut li, &format!("{}/versions/9", document.name))
        .await
        .expect_err("no version 9");
    assert_eq!(missing.code(), Code::NotFound);
}

async fn an_upload_over_the_limit_or_broken_off_stores_nothing(backend: Backend) {
    let app = TestDocument::spawn_with(backend, |c| c.service.max_bytes = 100_000).await;
    app.category("contract", "HT-{seq:6}", pb::NumberReset::Never)
        .await;
    let mut li = app.person("li", "sales", &[Role::Executor], Clearance::Internal);
    let document = li
        .register_document(register("contract", "Supply contract"))
        .await
        .expect("registered")
        .into_inner();
    let too_big = upload(&mut li, &document, &vec![7u8; 100_001], 10_000)
        .await
        .expect_err("over the limit");
    assert_eq!(too_big.code(), Code::ResourceExhausted);
    assert!(
        too_big.message().contains("100000"),
        "{}",
        too_big.message()
    );

    // An upload whose caller goes away half-way.
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::UploadVersionRequest>(8);
    let mut client = li.clone();
    let call = tokio::spawn(async move {
        client
            .upload_version(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
    });
    tx.send(pb::UploadVersionRequest {
        part: Some(pb::upload_version_request::Part::Metadata(
            pb::UploadMetadata {
                document: document.name.clone(),
                ..Default::default()
            },
        )),
    })
    .await
    .expect("sent");
    for _ in 0..3 {
        tx.send(pb::UploadVersionRequest {
            part: Some(pb::upload_version_request::Part::Chunk(vec![1u8; 10_000])),
        })
        .await
        .expect("sent");
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    call.abort();
    drop(tx);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let after = li
        .get_document(pb::GetDocumentRequest {
            name: document.name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(after.current_version, 0, "no version was stored");
    assert!(
        content_files(&app).is_empty(),
        "no content was kept: {:?}",
        content_files(&app)
    );
}

async fn uploads_are_refused_before_the_content_when_they_cannot_succeed(backend: Backend) {
    let app = TestDocument::spawn(backend).await;
    app.category("contract", "HT-{seq:6}", pb::NumberReset::Never)
        .await;
    let mut li = app.person("li", "sales", &[Role::Executor], Clearance::Internal);
    let document = li
        .register_document(register("contract", "Supply contract"))
        .await
        .expect("registered")
        .into_inner();
    let chunk_first = li
        .upload_version(futures::stream::iter(vec![pb::UploadVersionRequest {
            part: Some(pb::upload_version_request::Part::Chunk(b"x".to_vec())),
        }]))
        .await
        .expect_err("metadata first");
    assert_eq!(violated_fields(&chunk_first), ["metadata"]);
    let no_content = li
        .download_version(pb::DownloadVersionRequest {
            name: document.name.clone(),
        })
        .await;
    let no_content = match no_content {
        Ok(response) => {
            use futures::StreamExt as _;
            response
                .into_inner()
                .next()
                .await
                .expect("an answer")
                .expect_err("no version yet")
        }
        Err(e) => e,
    };
    assert_eq!(no_content.code(), Code::FailedPrecondition);

    let mut stale = document.clone();
    stale.etag = "41".into();
    let refused = upload(&mut li, &stale, b"text", 2)
        .await
        .expect_err("a stale etag");
    assert_eq!(refused.code(), Code::Aborted);
    let mut stranger = app.person("zhao", "sales", &[Role::Executor], Clearance::Internal);
    let denied = upload(&mut stranger, &document, b"text", 2)
        .await
        .expect_err("not the author");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let voided = li
        .void_document(pb::VoidDocumentRequest {
            name: document.name.clone(),
            reason: "wrong template".into(),
            ..Default::default()
        })
        .await
        .expect("voided")
        .into_inner();
    let voided = upload(&mut li, &voided, b"text", 2).await;
    assert_eq!(voided.expect_err("voided").code(), Code::FailedPrecondition);
    assert!(content_files(&app).is_empty());
}
