//! Content (§4.2): streamed in while hashed, stored once per hash,
//! streamed out; oversize and interrupted uploads store nothing.

use procedo_platform::identity::{Clearance, Role};
use procedo_proto::document as pb;
use procedo_testkit::Backend;
use sha2::{Digest as _, Sha256};
use tonic::Code;

use crate::helpers::{TestDocument, TestStore, download, register, upload, violated_fields};

crate::store_tests!(
    versions_stream_in_and_out_with_their_hash_and_identical_content_is_stored_once,
    an_upload_over_the_limit_or_broken_off_stores_nothing,
    uploads_are_refused_before_the_content_when_they_cannot_succeed,
    content_no_version_refers_to_is_swept_once_untouched_for_the_grace_period,
);

/// The stored content objects (what is under `sha256/`).
async fn contents(app: &TestDocument) -> Vec<String> {
    let mut found: Vec<String> = app
        .stored_objects()
        .await
        .into_iter()
        .filter(|name| name.trim_start_matches('/').starts_with("sha256"))
        .collect();
    found.sort();
    found
}

async fn versions_stream_in_and_out_with_their_hash_and_identical_content_is_stored_once(
    backend: Backend,
    store: TestStore,
) {
    let app = TestDocument::spawn_on(backend, store, |_| {}).await;
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
    // Another replica on the same database and store serves it too.
    let replica = app.replica().await;
    let mut li_there =
        procedo_proto::document::document_service_client::DocumentServiceClient::with_interceptor(
            replica.channel.clone(),
            procedo_testkit::Bearer(Some(app.tokens.cleared(
                "li",
                "sales",
                &[Role::Executor],
                Clearance::Internal,
            ))),
        );
    let (_, there) = download(&mut li_there, &document.name)
        .await
        .expect("downloaded from the replica");
    assert!(there == content, "the replica reads the same bytes");

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
    assert_eq!(
        app.stored_objects().await.len(),
        2,
        "two distinct contents, nothing else"
    );
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

async fn an_upload_over_the_limit_or_broken_off_stores_nothing(backend: Backend, store: TestStore) {
    let app = TestDocument::spawn_on(backend, store, |c| {
        c.service.max_bytes = 100_000;
        // A caller that leaves once it sent everything may leave whole
        // content behind (the stream ended; the version was never
        // recorded): the sweep removes it.
        c.service.content_sweep = std::time::Duration::from_millis(100);
        c.service.content_grace = std::time::Duration::ZERO;
    })
    .await;
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
    let mut kept = app.stored_objects().await;
    for _ in 0..50 {
        if kept.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        kept = app.stored_objects().await;
    }
    assert!(kept.is_empty(), "no content was kept: {kept:?}");
}

async fn uploads_are_refused_before_the_content_when_they_cannot_succeed(
    backend: Backend,
    store: TestStore,
) {
    let app = TestDocument::spawn_on(backend, store, |_| {}).await;
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
    assert!(app.stored_objects().await.is_empty());
}

/// Streams `content` to `document`, and before the last chunk lets `meanwhile`
/// run: the content is stored before the version is recorded.
async fn upload_while(
    client: &mut crate::helpers::DocumentClient,
    document: &pb::Document,
    content: &[u8],
    meanwhile: impl Future<Output = ()>,
) -> Result<pb::DocumentVersion, tonic::Status> {
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::UploadVersionRequest>(8);
    let mut client = client.clone();
    let call = tokio::spawn(async move {
        client
            .upload_version(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .map(tonic::Response::into_inner)
    });
    let (head, tail) = content.split_at(content.len() / 2);
    for part in [
        pb::upload_version_request::Part::Metadata(pb::UploadMetadata {
            document: document.name.clone(),
            etag: document.etag.clone(),
            ..Default::default()
        }),
        pb::upload_version_request::Part::Chunk(head.to_vec()),
    ] {
        tx.send(pb::UploadVersionRequest { part: Some(part) })
            .await
            .expect("sent");
    }
    // The service has checked the document before it reads the content.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    meanwhile.await;
    tx.send(pb::UploadVersionRequest {
        part: Some(pb::upload_version_request::Part::Chunk(tail.to_vec())),
    })
    .await
    .expect("sent");
    drop(tx);
    call.await.expect("the call ran")
}

async fn content_no_version_refers_to_is_swept_once_untouched_for_the_grace_period(
    backend: Backend,
    store: TestStore,
) {
    let sweep = |grace_ms: u64| {
        move |c: &mut procedo_platform::service::Config<procedo_document::config::DocumentArgs>| {
            c.service.content_sweep = std::time::Duration::from_millis(100);
            c.service.content_grace = std::time::Duration::from_millis(grace_ms);
        }
    };
    // A generous grace period first: fresh content is never swept.
    let app = TestDocument::spawn_on(backend, store.clone(), sweep(3_600_000)).await;
    app.category("contract", "HT-{seq:6}", pb::NumberReset::Never)
        .await;
    let mut li = app.person("li", "sales", &[Role::Executor], Clearance::Internal);
    let document = li
        .register_document(register("contract", "Supply contract"))
        .await
        .expect("registered")
        .into_inner();
    let kept = upload(&mut li, &document, b"the terms everyone agreed", 5)
        .await
        .expect("uploaded");
    // The document changes while an upload streams: the upload's content
    // is stored, its version refused — content nothing refers to.
    let document = li
        .get_document(pb::GetDocumentRequest {
            name: document.name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    let mut editor = li.clone();
    let name = document.name.clone();
    let etag = document.etag.clone();
    let refused = upload_while(
        &mut li,
        &document,
        b"a draft nobody will keep",
        async move {
            editor
                .update_document(pb::UpdateDocumentRequest {
                    name,
                    etag,
                    title: "Supply contract (renamed)".into(),
                    ..Default::default()
                })
                .await
                .expect("renamed");
        },
    )
    .await
    .expect_err("the document changed under the upload");
    assert_eq!(refused.code(), Code::Aborted, "{refused:?}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        contents(&app).await.len(),
        2,
        "fresh content stays however it came"
    );

    // The same store with no grace period: the orphan goes, the version's
    // content stays and still reads back.
    let mut app = app;
    app.restart_with(sweep(0)).await;
    let mut li = app.person("li", "sales", &[Role::Executor], Clearance::Internal);
    let mut left = Vec::new();
    for _ in 0..50 {
        left = contents(&app).await;
        if left.len() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left.len(), 1, "only referenced content is left: {left:?}");
    assert!(left[0].ends_with(&kept.content_sha256), "{left:?}");
    let (_, read) = download(&mut li, &document.name).await.expect("downloaded");
    assert_eq!(read, b"the terms everyone agreed");
}
