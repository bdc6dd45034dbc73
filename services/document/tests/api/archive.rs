//! Archiving (§4.3): only what its category allows is archived; archived
//! documents are immutable but for their paper original's place; after
//! their retention, a disposal approved by the owning department's head
//! leaves a tombstone and removes the content.

use chrono::TimeZone as _;
use procedo_platform::identity::{Clearance, Role};
use procedo_platform::time::Clock;
use procedo_proto::document as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{DocumentClient, TestDocument, approved, category, download, upload};

backend_tests!(
    an_archived_document_is_immutable_until_its_disposal_is_approved_after_its_retention,
    a_category_without_signatures_archives_approved_documents_kept_for_ever,
);

fn at(y: i32, m: u32, d: u32) -> i64 {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, m, d, 10, 0, 0)
        .single()
        .expect("a time")
        .timestamp_millis()
}

async fn with_category(
    backend: Backend,
    signatures: bool,
    retention_years: i32,
) -> (TestDocument, Clock) {
    let clock = Clock::manual(at(2026, 12, 7));
    let set = clock.clone();
    let app = TestDocument::spawn_with(backend, move |c| {
        c.company.time_zone = Some(chrono_tz::Asia::Shanghai);
        c.company.clock = set;
        // Content is removed at disposal only once untouched this long.
        c.service.content_grace = std::time::Duration::ZERO;
    })
    .await;
    let mut c = category("contract", "HT-{seq:6}", pb::NumberReset::Never);
    c.retention_years = retention_years;
    if signatures {
        c.required_signatures = vec![pb::SignatureRequirement {
            role: "department_head".into(),
            department: String::new(),
            description: "the owning department's head".into(),
        }];
    }
    app.client(Role::Admin)
        .create_category(pb::CreateCategoryRequest {
            request_id: String::new(),
            category: Some(c),
        })
        .await
        .expect("created");
    (app, clock)
}

fn archive(d: &pb::Document) -> pb::ArchiveDocumentRequest {
    pb::ArchiveDocumentRequest {
        document: d.name.clone(),
        paper_location: Some(pb::PaperLocation {
            room: "B2".into(),
            shelf: "7".into(),
            r#box: "2026-031".into(),
        }),
        ..Default::default()
    }
}

async fn get(client: &mut DocumentClient, d: &pb::Document) -> pb::Document {
    client
        .get_document(pb::GetDocumentRequest {
            name: d.name.clone(),
        })
        .await
        .expect("read")
        .into_inner()
}

async fn an_archived_document_is_immutable_until_its_disposal_is_approved_after_its_retention(
    backend: Backend,
) {
    let (app, clock) = with_category(backend, true, 1).await;
    let mut li = app.person("li", "sales", &[Role::Executor], Clearance::Internal);
    let mut archivist = app.person("an", "archive", &[Role::Archivist], Clearance::Internal);
    let mut head = app.person(
        "zhao",
        "sales",
        &[Role::DepartmentHead],
        Clearance::Internal,
    );
    let d = approved(&app, &mut li).await;
    let unsigned = archivist
        .archive_document(archive(&d))
        .await
        .expect_err("not signed");
    assert_eq!(unsigned.code(), Code::FailedPrecondition);
    head.sign_document(pb::SignDocumentRequest {
        document: d.name.clone(),
        intent: pb::SignatureIntent::Approve as i32,
        ..Default::default()
    })
    .await
    .expect("signed");
    let denied = li
        .archive_document(archive(&d))
        .await
        .expect_err("archivists archive");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let archived = archivist
        .archive_document(archive(&d))
        .await
        .expect("archived")
        .into_inner();
    assert_eq!(archived.status(), pb::DocumentStatus::Archived);
    let record = archived.archive.clone().expect("the archive record");
    assert_eq!(
        record.paper_location.as_ref().map(|p| p.r#box.as_str()),
        Some("2026-031")
    );
    assert_eq!(
        record.retain_until.map(|t| t.seconds * 1000),
        Some(at(2027, 12, 7)),
        "a year after archiving"
    );

    // The compliance service hears of each step (queued until it is there).
    let facts: Vec<String> = procedo_platform::outbox::list(
        &app.server.db,
        "compliance",
        Some(&d.name),
        None,
        &procedo_platform::paging::Page::rows(50, None),
    )
    .await
    .expect("the outbox")
    .into_iter()
    .map(|r| r.event.r#type)
    .rev()
    .collect();
    assert_eq!(
        facts,
        [
            procedo_proto::events::document::REGISTERED,
            procedo_proto::events::document::APPROVED,
            procedo_proto::events::document::SIGNED,
            procedo_proto::events::document::ARCHIVED,
        ]
    );

    // Immutable: no versions, edits, voiding or signatures.
    let frozen = upload(&mut li, &archived, b"late change", 4)
        .await
        .expect_err("archived");
    assert_eq!(frozen.code(), Code::FailedPrecondition);
    for status in [
        li.update_document(pb::UpdateDocumentRequest {
            name: d.name.clone(),
            title: "Renamed".into(),
            ..Default::default()
        })
        .await
        .expect_err("archived"),
        archivist
            .void_document(pb::VoidDocumentRequest {
                name: d.name.clone(),
                reason: "tidy".into(),
                ..Default::default()
            })
            .await
            .expect_err("archived"),
    ] {
        assert_eq!(status.code(), Code::FailedPrecondition);
    }
    let moved = archivist
        .update_paper_location(pb::UpdatePaperLocationRequest {
            document: d.name.clone(),
            paper_location: Some(pb::PaperLocation {
                room: "B3".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("the paper original moved")
        .into_inner();
    assert_eq!(
        moved.archive.and_then(|a| a.paper_location).map(|p| p.room),
        Some("B3".into())
    );

    let early = archivist
        .request_disposal(pb::RequestDisposalRequest {
            document: d.name.clone(),
            reason: "retention over".into(),
            ..Default::default()
        })
        .await
        .expect_err("kept a year");
    assert_eq!(early.code(), Code::FailedPrecondition);
    assert!(
        early.message().contains("kept until"),
        "{}",
        early.message()
    );

    clock.set(at(2027, 12, 8));
    let requested = archivist
        .request_disposal(pb::RequestDisposalRequest {
            document: d.name.clone(),
            reason: "retention over".into(),
            ..Default::default()
        })
        .await
        .expect("requested")
        .into_inner();
    assert_eq!(
        requested.status(),
        pb::DocumentStatus::Archived,
        "until approved"
    );
    let elsewhere = app
        .person("ma", "ops", &[Role::DepartmentHead], Clearance::Internal)
        .approve_disposal(pb::ApproveDisposalRequest {
            document: d.name.clone(),
            ..Default::default()
        })
        .await
        .expect_err("another department's head");
    assert_eq!(elsewhere.code(), Code::PermissionDenied);
    let disposed = head
        .approve_disposal(pb::ApproveDisposalRequest {
            document: d.name.clone(),
            ..Default::default()
        })
        .await
        .expect("disposed")
        .into_inner();
    assert_eq!(disposed.status(), pb::DocumentStatus::Disposed);
    assert_eq!(
        (disposed.number.as_str(), disposed.title.as_str()),
        (d.number.as_str(), d.title.as_str())
    );
    let tombstone = disposed.disposal.expect("the tombstone");
    assert_eq!(tombstone.requested_by.map(|a| a.subject), Some("an".into()));
    assert_eq!(
        tombstone.approved_by.map(|a| a.subject),
        Some("zhao".into())
    );
    assert!(tombstone.dispose_time.is_some());
    let gone = download(&mut li, &d.name)
        .await
        .expect_err("the content is gone");
    assert_eq!(gone.code(), Code::FailedPrecondition);
    assert_eq!(
        get(&mut li, &d).await.status(),
        pb::DocumentStatus::Disposed
    );
    let content = app.database.data_dir().join("document-content/sha256");
    let left: usize = std::fs::read_dir(&content)
        .map(|dirs| dirs.count())
        .unwrap_or(0);
    assert_eq!(left, 0, "the content was removed");
}

async fn a_category_without_signatures_archives_approved_documents_kept_for_ever(backend: Backend) {
    let (app, clock) = with_category(backend, false, 0).await;
    let mut li = app.person("li", "sales", &[Role::Executor], Clearance::Internal);
    let mut archivist = app.person("an", "archive", &[Role::Archivist], Clearance::Internal);
    let d = approved(&app, &mut li).await;
    let archived = archivist
        .archive_document(pb::ArchiveDocumentRequest {
            document: d.name.clone(),
            ..Default::default()
        })
        .await
        .expect("archived")
        .into_inner();
    let record = archived.archive.expect("the archive record");
    assert!(record.retain_until.is_none() && record.paper_location.is_none());
    clock.set(at(2126, 1, 1));
    let forever = archivist
        .request_disposal(pb::RequestDisposalRequest {
            document: d.name.clone(),
            reason: "a century later".into(),
            ..Default::default()
        })
        .await
        .expect_err("kept for ever");
    assert!(
        forever.message().contains("for ever"),
        "{}",
        forever.message()
    );
}
