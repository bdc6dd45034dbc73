//! Every mutation (and the reads that take filters) answers random and
//! mangled bodies with a status the caller can act on, and the document
//! service keeps serving. `PROCEDO_FUZZ_CASES` sets the cases per method.

use procedo_platform::identity::Role;
use procedo_proto::common;
use procedo_proto::document as pb;
use procedo_testkit::Backend;
use procedo_testkit::fuzz::{Target, fuzz};

use crate::helpers::{TestDocument, category, register, upload};

fn path(method: &str) -> &'static str {
    Box::leak(format!("/procedo.document.v1.DocumentService/{method}").into_boxed_str())
}

#[test]
fn every_method_answers_random_and_mangled_bodies_with_a_status_the_caller_can_act_on() {
    let runtime = procedo_testkit::fuzz::runtime();
    let app = runtime.block_on(TestDocument::spawn(Backend::Sqlite));
    let document = runtime.block_on(async {
        app.category("contract", "HT-{year}-{seq:6}", pb::NumberReset::Yearly)
            .await;
        let mut client = app.client(Role::Executor);
        let d = client
            .register_document(register("contract", "Supply contract"))
            .await
            .expect("registered")
            .into_inner();
        upload(&mut client, &d, b"content", 3)
            .await
            .expect("uploaded");
        d
    });
    let mut full = category(
        "report",
        "{category}-{department}-{year}-{seq:4}",
        pb::NumberReset::Yearly,
    );
    full.required_signatures = vec![pb::SignatureRequirement {
        role: "department_head".into(),
        department: "legal".into(),
        description: "legal's head".into(),
    }];
    let targets = vec![
        Target::new(
            path("CreateCategory"),
            &pb::CreateCategoryRequest {
                request_id: String::new(),
                category: Some(full),
            },
        ),
        Target::new(
            path("UpdateCategory"),
            &pb::UpdateCategoryRequest {
                request_id: String::new(),
                category: Some(category(
                    "contract",
                    "HT{year}{seq:5}",
                    pb::NumberReset::Yearly,
                )),
                etag: String::new(),
            },
        ),
        Target::new(
            path("RegisterDocument"),
            &pb::RegisterDocumentRequest {
                request_id: String::new(),
                category: "categories/contract".into(),
                title: "采购合同 Supply contract".into(),
                owning_department: "sales".into(),
                confidentiality: common::Clearance::Internal as i32,
                tags: vec!["supplier".into()],
                related: vec!["applications/0192f0c1-0000-7000-8000-000000000001".into()],
                grantees: vec!["guest".into()],
            },
        ),
        Target::new(
            path("ListDocuments"),
            &pb::ListDocumentsRequest {
                number: "HT-2026-*".into(),
                title_words: "supply 合同".into(),
                category: "categories/contract".into(),
                tag: "supplier".into(),
                ..Default::default()
            },
        ),
        Target::new(
            path("UpdateDocument"),
            &pb::UpdateDocumentRequest {
                name: document.name.clone(),
                title: "Supply contract, revised".into(),
                tags: vec!["supplier".into(), "2026".into()],
                ..Default::default()
            },
        ),
        Target::new(
            path("UploadVersion"),
            &pb::UploadVersionRequest {
                part: Some(pb::upload_version_request::Part::Metadata(
                    pb::UploadMetadata {
                        document: document.name.clone(),
                        media_type: "text/plain".into(),
                        ..Default::default()
                    },
                )),
            },
        ),
        Target::new(
            path("ListVersions"),
            &pb::ListVersionsRequest {
                document: document.name.clone(),
                ..Default::default()
            },
        ),
        Target::new(
            path("SubmitForReview"),
            &pb::SubmitForReviewRequest {
                document: document.name.clone(),
                seats: vec![
                    pb::ReviewerSeat {
                        seat: Some(pb::reviewer_seat::Seat::Reviewer("zhang".into())),
                    },
                    pb::ReviewerSeat {
                        seat: Some(pb::reviewer_seat::Seat::Pool(pb::ReviewerPool {
                            department: "legal".into(),
                            role: "reviewer".into(),
                        })),
                    },
                ],
                ..Default::default()
            },
        ),
        Target::new(
            path("AddReviewComment"),
            &pb::AddReviewCommentRequest {
                round: format!("{}/reviewRounds/1", document.name),
                aspect: pb::ReviewAspect::Format as i32,
                anchor: "p. 1".into(),
                text: "the heading".into(),
                ..Default::default()
            },
        ),
        Target::new(
            path("DecideReview"),
            &pb::DecideReviewRequest {
                round: format!("{}/reviewRounds/1", document.name),
                decision: pb::ReviewDecision::RequestChanges as i32,
                comment: "fix the heading".into(),
                ..Default::default()
            },
        ),
        Target::new(
            path("SignDocument"),
            &pb::SignDocumentRequest {
                document: document.name.clone(),
                intent: pb::SignatureIntent::Approve as i32,
                ..Default::default()
            },
        ),
        Target::new(
            path("VerifyDocument"),
            &pb::VerifyDocumentRequest {
                name: format!("{}/versions/1", document.name),
            },
        ),
        Target::new(
            path("ArchiveDocument"),
            &pb::ArchiveDocumentRequest {
                document: document.name.clone(),
                paper_location: Some(pb::PaperLocation {
                    room: "B2".into(),
                    shelf: "7".into(),
                    r#box: "31".into(),
                }),
                ..Default::default()
            },
        ),
        Target::new(
            path("RequestDisposal"),
            &pb::RequestDisposalRequest {
                document: document.name.clone(),
                reason: "retention over".into(),
                ..Default::default()
            },
        ),
        Target::new(
            path("RequestLoan"),
            &pb::RequestLoanRequest {
                number: document.number.clone(),
                scope: pb::LoanScope::Copy as i32,
                purpose: "audit".into(),
                period: Some(common::TimeLimit {
                    kind: Some(common::time_limit::Kind::WorkingDays(5)),
                }),
                ..Default::default()
            },
        ),
        Target::new(
            path("ListLoans"),
            &pb::ListLoansRequest {
                document: document.name.clone(),
                overdue_only: true,
                ..Default::default()
            },
        ),
        Target::new(
            path("VoidDocument"),
            &pb::VoidDocumentRequest {
                name: document.name,
                reason: "duplicate".into(),
                ..Default::default()
            },
        ),
    ];

    fuzz(
        &runtime,
        &app.server.channel,
        &app.tokens.token(Role::Admin),
        &targets,
    );

    let still = runtime.block_on(
        app.client(Role::Auditor)
            .list_categories(pb::ListCategoriesRequest::default()),
    );
    assert!(
        still.is_ok(),
        "the document service still serves: {still:?}"
    );
}
