//! Borrowing (§4.3): approvals (the owning head too for confidential
//! documents), a due time on the calendar, renewal, the overdue sweep and
//! its event, returns with the integrity check, and a loan opening a
//! confidential document to its borrower.

use std::time::Duration;

use chrono::TimeZone as _;
use procedo_platform::identity::{Clearance, Role};
use procedo_platform::outbox;
use procedo_platform::paging::Page;
use procedo_platform::time::Clock;
use procedo_proto::common;
use procedo_proto::document as pb;
use procedo_proto::events;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{
    DocumentClient, TestDocument, category, download, register, upload, violated_fields,
};

backend_tests!(
    a_copy_is_lent_renewed_turns_overdue_once_and_a_changed_copy_is_flagged_on_return,
    a_confidential_document_is_lent_to_an_outsider_with_both_approvals_and_only_while_lent,
);

fn at(d: u32, h: u32) -> i64 {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 12, d, h, 0, 0)
        .single()
        .expect("a time")
        .timestamp_millis()
}

fn ms(t: Option<prost_types::Timestamp>) -> i64 {
    let t = t.expect("a time");
    t.seconds * 1000 + i64::from(t.nanos / 1_000_000)
}

async fn service(backend: Backend) -> (TestDocument, Clock) {
    let clock = Clock::manual(at(7, 10));
    let set = clock.clone();
    let app = TestDocument::spawn_with(backend, move |c| {
        c.company.time_zone = Some(chrono_tz::Asia::Shanghai);
        c.company.clock = set;
        c.service.loan_sweep = Duration::from_millis(50);
    })
    .await;
    app.client(Role::Admin)
        .create_category(pb::CreateCategoryRequest {
            request_id: String::new(),
            category: Some(category("memo", "M-{seq:4}", pb::NumberReset::Never)),
        })
        .await
        .expect("a category without signatures");
    (app, clock)
}

/// An archived memo of sales at `level` with `content`.
async fn archived(app: &TestDocument, level: common::Clearance, content: &[u8]) -> pb::Document {
    let mut li = app.person("li", "sales", &[Role::Executor], Clearance::Secret);
    let mut request = register("memo", "Board minutes");
    request.confidentiality = level as i32;
    // The archive keeps sales' confidential records: it is granted them.
    request.grantees = vec!["an".into()];
    let d = li
        .register_document(request)
        .await
        .expect("registered")
        .into_inner();
    upload(&mut li, &d, content, 5).await.expect("uploaded");
    let round = li
        .submit_for_review(pb::SubmitForReviewRequest {
            document: d.name.clone(),
            seats: vec![pb::ReviewerSeat {
                seat: Some(pb::reviewer_seat::Seat::Pool(pb::ReviewerPool {
                    department: "sales".into(),
                    role: "department_head".into(),
                })),
            }],
            ..Default::default()
        })
        .await
        .expect("submitted")
        .into_inner();
    app.person("zhao", "sales", &[Role::DepartmentHead], Clearance::Secret)
        .decide_review(pb::DecideReviewRequest {
            round: round.name,
            decision: pb::ReviewDecision::Approve as i32,
            ..Default::default()
        })
        .await
        .expect("approved");
    archivist(app)
        .archive_document(pb::ArchiveDocumentRequest {
            document: d.name.clone(),
            ..Default::default()
        })
        .await
        .expect("archived")
        .into_inner()
}

fn archivist(app: &TestDocument) -> DocumentClient {
    app.person("an", "archive", &[Role::Archivist], Clearance::Secret)
}

fn decide(loan: &pb::Loan, decision: pb::LoanDecision) -> pb::DecideLoanRequest {
    pb::DecideLoanRequest {
        loan: loan.name.clone(),
        decision: decision as i32,
        ..Default::default()
    }
}

fn working_days(n: u32) -> common::TimeLimit {
    common::TimeLimit {
        kind: Some(common::time_limit::Kind::WorkingDays(n)),
    }
}

async fn compliance_events(app: &TestDocument, event_type: &str) -> usize {
    outbox::list(
        &app.server.db,
        "compliance",
        None,
        None,
        &Page::rows(500, None),
    )
    .await
    .expect("the outbox")
    .iter()
    .filter(|r| r.event.r#type == event_type)
    .count()
}

async fn a_copy_is_lent_renewed_turns_overdue_once_and_a_changed_copy_is_flagged_on_return(
    backend: Backend,
) {
    let (app, clock) = service(backend).await;
    let d = archived(&app, common::Clearance::Internal, b"the minutes").await;
    let mut wu = app.person("wu", "ops", &[Role::Executor], Clearance::Internal);
    let draft_loan = wu
        .request_loan(pb::RequestLoanRequest {
            document: d.name.clone(),
            scope: pb::LoanScope::Copy as i32,
            purpose: String::new(),
            ..Default::default()
        })
        .await
        .expect_err("purpose and period");
    let fields = violated_fields(&draft_loan);
    assert!(
        fields.contains(&"purpose".to_owned()) && fields.contains(&"period".to_owned()),
        "{fields:?}"
    );
    let loan = wu
        .request_loan(pb::RequestLoanRequest {
            document: d.name.clone(),
            scope: pb::LoanScope::Copy as i32,
            purpose: "audit preparation".into(),
            period: Some(working_days(5)),
            ..Default::default()
        })
        .await
        .expect("requested")
        .into_inner();
    assert_eq!(loan.status(), pb::LoanStatus::Requested);
    assert_eq!(loan.approvals_needed, ["archivist"]);
    let not_theirs = app
        .person("ma", "ops", &[Role::DepartmentHead], Clearance::Internal)
        .decide_loan(decide(&loan, pb::LoanDecision::Approve))
        .await
        .expect_err("an archivist decides");
    assert_eq!(not_theirs.code(), Code::NotFound, "not their loan to see");
    let active = archivist(&app)
        .decide_loan(decide(&loan, pb::LoanDecision::Approve))
        .await
        .expect("approved")
        .into_inner();
    assert_eq!(active.status(), pb::LoanStatus::Active);
    // Monday 10:00 plus five working days: the next Monday 10:00.
    let deadline = active.deadline.clone().expect("a deadline");
    assert_eq!(ms(deadline.due_time), at(14, 10));

    wu.request_renewal(pb::RequestRenewalRequest {
        loan: loan.name.clone(),
        period: Some(working_days(2)),
        reason: "the audit moved".into(),
        ..Default::default()
    })
    .await
    .expect("renewal asked");
    let renewed = archivist(&app)
        .decide_loan(decide(&loan, pb::LoanDecision::Approve))
        .await
        .expect("renewed")
        .into_inner();
    assert_eq!(
        ms(renewed.deadline.expect("a deadline").due_time),
        at(16, 10)
    );
    assert!(renewed.renewal.is_none());

    // It runs out: escalated once, reported to compliance once.
    clock.set(at(17, 9));
    let mut escalated = None;
    for _ in 0..200 {
        let read = wu
            .get_loan(pb::GetLoanRequest {
                name: loan.name.clone(),
            })
            .await
            .expect("read")
            .into_inner();
        if read.escalate_time.is_some() {
            escalated = Some(read);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let escalated = escalated.expect("the sweep escalates it");
    assert!(escalated.deadline.expect("a deadline").overdue);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        compliance_events(&app, events::document::LOAN_OVERDUE).await,
        1,
        "once"
    );
    let overdue = archivist(&app)
        .list_loans(pb::ListLoansRequest {
            overdue_only: true,
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .loans;
    assert_eq!(overdue.len(), 1);

    let returned = archivist(&app)
        .return_loan(pb::ReturnLoanRequest {
            loan: loan.name.clone(),
            returned_sha256: "0".repeat(64),
            ..Default::default()
        })
        .await
        .expect("returned")
        .into_inner();
    assert_eq!(returned.status(), pb::LoanStatus::Returned);
    assert_eq!(returned.integrity(), pb::IntegrityCheck::Mismatch);
    assert!(
        returned
            .history
            .iter()
            .any(|e| e.action == "integrity_mismatch")
    );
    assert_eq!(
        compliance_events(&app, events::document::LOAN_INTEGRITY_MISMATCH).await,
        1
    );
    let actions: Vec<&str> = returned.history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "requested",
            "approved",
            "activated",
            "renewal_requested",
            "renewed",
            "overdue",
            "returned",
            "integrity_mismatch"
        ]
    );
}

async fn a_confidential_document_is_lent_to_an_outsider_with_both_approvals_and_only_while_lent(
    backend: Backend,
) {
    let (app, _clock) = service(backend).await;
    let content = b"the confidential minutes";
    let d = archived(&app, common::Clearance::Confidential, content).await;
    let mut wu = app.person("wu", "ops", &[Role::Executor], Clearance::Confidential);
    let hidden = wu
        .get_document(pb::GetDocumentRequest {
            name: d.name.clone(),
        })
        .await
        .expect_err("another department's confidential document");
    assert_eq!(hidden.code(), Code::NotFound);
    let low = app
        .person("xu", "ops", &[Role::Executor], Clearance::Internal)
        .request_loan(pb::RequestLoanRequest {
            number: d.number.clone(),
            scope: pb::LoanScope::View as i32,
            purpose: "curiosity".into(),
            period: Some(working_days(1)),
            ..Default::default()
        })
        .await
        .expect_err("not cleared");
    assert_eq!(low.code(), Code::NotFound);
    assert!(!low.message().contains("Board"), "{}", low.message());
    let loan = wu
        .request_loan(pb::RequestLoanRequest {
            number: d.number.clone(),
            scope: pb::LoanScope::View as i32,
            purpose: "contract dispute".into(),
            period: Some(working_days(3)),
            ..Default::default()
        })
        .await
        .expect("requested by number")
        .into_inner();
    assert_eq!(loan.approvals_needed, ["archivist", "department_head"]);
    let half = archivist(&app)
        .decide_loan(decide(&loan, pb::LoanDecision::Approve))
        .await
        .expect("the archivist approves")
        .into_inner();
    assert_eq!(half.status(), pb::LoanStatus::Requested);
    assert_eq!(half.approvals_needed, ["department_head"]);
    assert_eq!(
        wu.get_document(pb::GetDocumentRequest {
            name: d.name.clone()
        })
        .await
        .expect_err("not lent yet")
        .code(),
        Code::NotFound
    );
    app.person("zhao", "sales", &[Role::DepartmentHead], Clearance::Secret)
        .decide_loan(decide(&loan, pb::LoanDecision::Approve))
        .await
        .expect("the owning head approves");
    let (_, read) = download(&mut wu, &d.name).await.expect("lent: readable");
    assert_eq!(read, content);
    let listed = wu
        .list_documents(pb::ListDocumentsRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .documents;
    assert!(
        listed.iter().any(|x| x.name == d.name),
        "a loan opens it in lists too"
    );

    archivist(&app)
        .return_loan(pb::ReturnLoanRequest {
            loan: loan.name.clone(),
            ..Default::default()
        })
        .await
        .expect("returned");
    assert_eq!(
        wu.get_document(pb::GetDocumentRequest {
            name: d.name.clone()
        })
        .await
        .expect_err("returned: closed again")
        .code(),
        Code::NotFound
    );
    let mut paper = pb::RequestLoanRequest {
        document: d.name.clone(),
        scope: pb::LoanScope::PaperOriginal as i32,
        purpose: "court".into(),
        period: Some(working_days(1)),
        ..Default::default()
    };
    paper.number.clear();
    let mut zhao = app.person("zhao", "sales", &[Role::DepartmentHead], Clearance::Secret);
    let paper_loan = zhao
        .request_loan(paper)
        .await
        .expect("requested")
        .into_inner();
    archivist(&app)
        .decide_loan(decide(&paper_loan, pb::LoanDecision::Approve))
        .await
        .expect("approved");
    zhao.decide_loan(decide(&paper_loan, pb::LoanDecision::Approve))
        .await
        .expect("approved by the head");
    let no_condition = archivist(&app)
        .return_loan(pb::ReturnLoanRequest {
            loan: paper_loan.name.clone(),
            ..Default::default()
        })
        .await
        .expect_err("the paper's condition");
    assert_eq!(violated_fields(&no_condition), ["condition"]);
}
