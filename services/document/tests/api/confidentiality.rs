//! Confidentiality (§1.3.5): clearance and department decide which
//! documents a caller sees — for admins too; what they may not see does
//! not exist for them, and reads of confidential material are audited.

use procedo_platform::identity::{Clearance, Role};
use procedo_platform::outbox;
use procedo_platform::paging::Page;
use procedo_proto::common;
use procedo_proto::document as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{DocumentClient, TestDocument, download, register, upload, violated_fields};

backend_tests!(
    every_read_of_every_level_answers_by_clearance_department_and_grant,
    a_document_cannot_be_registered_above_the_authors_clearance,
);

async fn every_read_of_every_level_answers_by_clearance_department_and_grant(backend: Backend) {
    use Clearance::*;
    let app = TestDocument::spawn(backend).await;
    app.category("contract", "HT-{seq:6}", pb::NumberReset::Never)
        .await;
    let mut author = app.person("li", "sales", &[Role::Executor], Secret);
    let mut documents = Vec::new();
    for (level, title) in [
        (common::Clearance::Public, "Price list"),
        (common::Clearance::Internal, "Supplier terms"),
        (common::Clearance::Confidential, "Key account contract"),
        (common::Clearance::Secret, "Merger agreement"),
    ] {
        let mut request = register("contract", title);
        request.confidentiality = level as i32;
        if level == common::Clearance::Confidential {
            request.grantees = vec!["guest".into()];
        }
        let d = author
            .register_document(request)
            .await
            .expect("registered")
            .into_inner();
        upload(&mut author, &d, title.as_bytes(), 4)
            .await
            .expect("uploaded");
        documents.push(d);
    }
    // Who reads, and which of the four (public, internal, confidential,
    // secret) they see.
    let readers: Vec<(&str, DocumentClient, [bool; 4])> = vec![
        (
            "public, sales",
            app.person("p", "sales", &[Role::Executor], Public),
            [true, false, false, false],
        ),
        (
            "internal, sales",
            app.person("i", "sales", &[Role::Executor], Internal),
            [true, true, false, false],
        ),
        (
            "secret, sales",
            app.person("s", "sales", &[Role::Executor], Secret),
            [true, true, true, true],
        ),
        (
            "secret, ops",
            app.person("o", "ops", &[Role::Executor], Secret),
            [true, true, false, false],
        ),
        (
            "admin, secret, it",
            app.person("root", "it", &[Role::Admin], Secret),
            [true, true, false, false],
        ),
        (
            "auditor, internal",
            app.person("a", "audit", &[Role::Auditor], Internal),
            [true, true, false, false],
        ),
        (
            "grantee, confidential, legal",
            app.person("guest", "legal", &[Role::Reviewer], Confidential),
            [true, true, true, false],
        ),
        (
            "grantee, internal, legal",
            app.person("guest", "legal", &[Role::Reviewer], Internal),
            [true, true, false, false],
        ),
    ];
    for (who, mut client, sees) in readers {
        let listed: Vec<String> = client
            .list_documents(pb::ListDocumentsRequest::default())
            .await
            .expect("listed")
            .into_inner()
            .documents
            .into_iter()
            .map(|d| d.name)
            .collect();
        for (d, visible) in documents.iter().zip(sees) {
            let got = client
                .get_document(pb::GetDocumentRequest {
                    name: d.name.clone(),
                })
                .await;
            let fetched = download(&mut client, &d.name).await;
            let versions = client
                .list_versions(pb::ListVersionsRequest {
                    document: d.name.clone(),
                    ..Default::default()
                })
                .await;
            let searched = client
                .list_documents(pb::ListDocumentsRequest {
                    number: d.number.clone(),
                    ..Default::default()
                })
                .await
                .expect("searched")
                .into_inner()
                .documents;
            if visible {
                assert!(got.is_ok(), "{who} gets {}", d.title);
                assert!(fetched.is_ok(), "{who} downloads {}", d.title);
                assert!(versions.is_ok(), "{who} lists the versions of {}", d.title);
                assert!(listed.contains(&d.name), "{who} lists {}", d.title);
                assert_eq!(searched.len(), 1, "{who} finds {}", d.title);
            } else {
                for (what, status) in [
                    ("get", got.expect_err("hidden")),
                    ("download", fetched.expect_err("hidden")),
                    ("versions", versions.expect_err("hidden")),
                ] {
                    assert_eq!(status.code(), Code::NotFound, "{who} {what} {}", d.title);
                    assert!(
                        !status.message().contains(&d.title)
                            && !status.message().contains(&d.number),
                        "{who} {what}: {}",
                        status.message()
                    );
                }
                assert!(!listed.contains(&d.name), "{who} does not list {}", d.title);
                assert!(searched.is_empty(), "{who} does not find {}", d.title);
            }
        }
    }
    // A void by someone who may not see it: not found either.
    let hidden = app
        .person("o", "ops", &[Role::Archivist], Secret)
        .void_document(pb::VoidDocumentRequest {
            name: documents[3].name.clone(),
            reason: "tidying".into(),
            ..Default::default()
        })
        .await
        .expect_err("not theirs to see");
    assert_eq!(hidden.code(), Code::NotFound);

    // Reads of the confidential and secret ones were audited; the others not.
    let audit = outbox::list(
        &app.server.db,
        outbox::AUDIT,
        None,
        None,
        &Page::rows(500, None),
    )
    .await
    .expect("the audit records");
    let reads = |d: &pb::Document| {
        audit
            .iter()
            .filter(|r| r.event.subject == d.name)
            .filter_map(|r| {
                let record = <common::AuditRecord as prost::Message>::decode(
                    r.event.data.as_ref().expect("data").value.as_slice(),
                )
                .expect("an audit record");
                (record.action == "document.documents.read").then_some(record.detail)
            })
            .collect::<Vec<_>>()
    };
    assert!(reads(&documents[0]).is_empty());
    assert!(reads(&documents[1]).is_empty());
    let confidential = reads(&documents[2]);
    assert!(
        confidential.iter().any(|d| d == "metadata"),
        "{confidential:?}"
    );
    assert!(
        confidential.iter().any(|d| d.starts_with("content")),
        "{confidential:?}"
    );
    assert!(
        confidential.iter().any(|d| d == "listed"),
        "{confidential:?}"
    );
    assert!(!reads(&documents[3]).is_empty());
}

async fn a_document_cannot_be_registered_above_the_authors_clearance(backend: Backend) {
    let app = TestDocument::spawn(backend).await;
    app.category("contract", "HT-{seq:6}", pb::NumberReset::Never)
        .await;
    let mut request = register("contract", "Merger agreement");
    request.confidentiality = common::Clearance::Secret as i32;
    let refused = app
        .person("li", "sales", &[Role::Executor], Clearance::Confidential)
        .register_document(request)
        .await
        .expect_err("above their clearance");
    assert_eq!(violated_fields(&refused), ["confidentiality"]);
    let denied = app
        .person("a", "audit", &[Role::Auditor], Clearance::Secret)
        .register_document(register("contract", "Notes"))
        .await
        .expect_err("auditors do not author");
    assert_eq!(denied.code(), Code::PermissionDenied);
    // An author registering a confidential document for another department
    // keeps sight of it.
    let mut request = register("contract", "Legal opinion");
    request.confidentiality = common::Clearance::Confidential as i32;
    request.owning_department = "legal".into();
    let mut li = app.person("li", "sales", &[Role::Executor], Clearance::Confidential);
    let d = li
        .register_document(request)
        .await
        .expect("registered")
        .into_inner();
    assert_eq!(d.grantees, ["li"]);
    li.get_document(pb::GetDocumentRequest { name: d.name })
        .await
        .expect("the author sees it");
}
