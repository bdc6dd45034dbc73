//! Rectification notices (§6.1): issued for findings, answered by the
//! department, reopened and verified; escalated once when overdue.

use std::time::Duration;

use procedo_platform::identity::Role;
use procedo_platform::time::Clock;
use procedo_proto::common;
use procedo_proto::compliance as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{RectificationClient, TestCompliance};
use crate::inspections::{DAY, START, auditor, inspection, ts};

backend_tests!(
    a_notice_goes_through_reopening_to_verification_and_closes_its_findings,
    an_overdue_notice_is_escalated_once_to_the_head_and_the_inspector,
    bad_notices_are_named_and_change_nothing,
);

const NOW: i64 = START + 40 * DAY;

async fn service(backend: Backend) -> (TestCompliance, Clock) {
    let clock = Clock::manual(NOW);
    let set = clock.clone();
    let app = TestCompliance::spawn_with(backend, move |c| {
        c.company.clock = set;
        c.service.deadline_sweep = Duration::from_millis(50);
    })
    .await;
    (app, clock)
}

/// A finding of sales, recorded on a fresh inspection.
async fn finding(app: &TestCompliance) -> pb::Finding {
    let i = inspection(app).await;
    auditor(app)
        .record_finding(pb::RecordFindingRequest {
            inspection: i.name,
            etag: i.etag,
            severity: pb::Severity::Major as i32,
            clause: "§5.1.2".into(),
            resources: vec!["applications/a1".into()],
            description: "Entered in the ledger two days late".into(),
            ..Default::default()
        })
        .await
        .expect("a finding")
        .into_inner()
}

fn ann(app: &TestCompliance) -> RectificationClient {
    app.rectification(app.tokens.token_for("ann", "audit", &[Role::Auditor]))
}

fn hank(app: &TestCompliance) -> RectificationClient {
    app.rectification(
        app.tokens
            .token_for("hank", "sales", &[Role::DepartmentHead]),
    )
}

async fn issue(app: &TestCompliance, finding: &pb::Finding, due: i64) -> pb::RectificationNotice {
    ann(app)
        .issue_notice(pb::IssueNoticeRequest {
            findings: vec![finding.name.clone()],
            department: "sales".into(),
            department_head: "hank".into(),
            requirements: "Enter every application on the day it arrives".into(),
            due_time: ts(due),
            ..Default::default()
        })
        .await
        .expect("issued")
        .into_inner()
}

async fn a_notice_goes_through_reopening_to_verification_and_closes_its_findings(backend: Backend) {
    let (app, _clock) = service(backend).await;
    let f = finding(&app).await;
    let n = issue(&app, &f, NOW + 10 * DAY).await;
    assert_eq!(n.status, pb::NoticeStatus::Issued as i32);
    assert_eq!(n.findings, std::slice::from_ref(&f.name));
    assert_eq!(
        n.inspector.as_ref().map(|a| a.subject.as_str()),
        Some("ann")
    );
    assert_eq!(
        n.deadline.as_ref().and_then(|d| d.due_time),
        ts(NOW + 10 * DAY)
    );

    let mut inspections = auditor(&app);
    let covered = inspections
        .get_finding(pb::GetFindingRequest {
            name: f.name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(covered.status, pb::FindingStatus::Rectifying as i32);
    assert_eq!(covered.notice, n.name);

    // A finding under a notice is not issued again.
    let again = ann(&app)
        .issue_notice(pb::IssueNoticeRequest {
            findings: vec![f.name.clone()],
            department: "sales".into(),
            department_head: "hank".into(),
            requirements: "again".into(),
            due_time: ts(NOW + DAY),
            ..Default::default()
        })
        .await
        .expect_err("already covered");
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert!(
        again.message().contains("RECTIFYING"),
        "{}",
        again.message()
    );

    let mut head = hank(&app);
    // Starting before acknowledging names the statuses that allow it.
    let early = head
        .start_rectification(pb::StartRectificationRequest {
            notice: n.name.clone(),
            etag: n.etag.clone(),
            ..Default::default()
        })
        .await
        .expect_err("not acknowledged");
    assert_eq!(early.code(), Code::FailedPrecondition);
    assert!(
        early.message().contains("ISSUED")
            && early.message().contains("ACKNOWLEDGED")
            && early.message().contains("REOPENED"),
        "{}",
        early.message()
    );
    // Another department's head does not answer it, nor see it.
    let other = app
        .rectification(
            app.tokens
                .token_for("fay", "finance", &[Role::DepartmentHead]),
        )
        .acknowledge_notice(pb::AcknowledgeNoticeRequest {
            notice: n.name.clone(),
            etag: n.etag.clone(),
            ..Default::default()
        })
        .await
        .expect_err("not theirs");
    assert_eq!(other.code(), Code::NotFound);
    // The inspector does not answer for the department.
    let inspector = ann(&app)
        .acknowledge_notice(pb::AcknowledgeNoticeRequest {
            notice: n.name.clone(),
            etag: n.etag.clone(),
            ..Default::default()
        })
        .await
        .expect_err("the department answers");
    assert_eq!(inspector.code(), Code::PermissionDenied);

    let n = head
        .acknowledge_notice(pb::AcknowledgeNoticeRequest {
            notice: n.name.clone(),
            etag: n.etag.clone(),
            comment: "received".into(),
            ..Default::default()
        })
        .await
        .expect("acknowledged")
        .into_inner();
    let n = head
        .start_rectification(pb::StartRectificationRequest {
            notice: n.name.clone(),
            etag: n.etag.clone(),
            ..Default::default()
        })
        .await
        .expect("started")
        .into_inner();
    let evidence = "documents/0193a0c0-0000-7000-8000-000000000002".to_owned();
    let n = head
        .submit_rectification(pb::SubmitRectificationRequest {
            notice: n.name.clone(),
            etag: n.etag.clone(),
            evidence: vec![evidence.clone()],
            notes: "Clerks retrained; daily check added".into(),
            ..Default::default()
        })
        .await
        .expect("submitted")
        .into_inner();
    assert_eq!(n.status, pb::NoticeStatus::Submitted as i32);
    assert_eq!(n.evidence, [evidence]);
    assert_eq!(
        n.deadline.as_ref().map(|d| d.state),
        Some(common::DeadlineState::Met as i32)
    );
    // The department cannot verify its own work.
    let own = head
        .verify_rectification(pb::VerifyRectificationRequest {
            notice: n.name.clone(),
            etag: n.etag.clone(),
            ..Default::default()
        })
        .await
        .expect_err("auditors verify");
    assert_eq!(own.code(), Code::PermissionDenied);

    let n = ann(&app)
        .reopen_rectification(pb::ReopenRectificationRequest {
            notice: n.name.clone(),
            etag: n.etag.clone(),
            reason: "The daily check is not in the written procedure".into(),
            time_limit: Some(common::TimeLimit {
                kind: Some(common::time_limit::Kind::Elapsed(prost_types::Duration {
                    seconds: 5 * 86_400,
                    nanos: 0,
                })),
            }),
            ..Default::default()
        })
        .await
        .expect("reopened")
        .into_inner();
    assert_eq!(n.status, pb::NoticeStatus::Reopened as i32);
    assert_eq!(
        n.reopen_reason,
        "The daily check is not in the written procedure"
    );
    assert_eq!(
        n.deadline.as_ref().and_then(|d| d.due_time),
        ts(NOW + 5 * DAY)
    );

    let n = head
        .start_rectification(pb::StartRectificationRequest {
            notice: n.name.clone(),
            etag: n.etag.clone(),
            ..Default::default()
        })
        .await
        .expect("started again")
        .into_inner();
    let n = head
        .submit_rectification(pb::SubmitRectificationRequest {
            notice: n.name.clone(),
            etag: n.etag.clone(),
            notes: "Procedure amended".into(),
            ..Default::default()
        })
        .await
        .expect("submitted again")
        .into_inner();
    let n = ann(&app)
        .verify_rectification(pb::VerifyRectificationRequest {
            notice: n.name.clone(),
            etag: n.etag.clone(),
            comment: "Checked on site".into(),
            ..Default::default()
        })
        .await
        .expect("verified")
        .into_inner();
    assert_eq!(n.status, pb::NoticeStatus::Verified as i32);
    let steps: Vec<(&str, &str)> = n
        .history
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.actor.as_ref().map_or("", |a| a.subject.as_str()),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("issued", "ann"),
            ("acknowledged", "hank"),
            ("started", "hank"),
            ("submitted", "hank"),
            ("reopened", "ann"),
            ("started", "hank"),
            ("submitted", "hank"),
            ("verified", "ann"),
        ]
    );
    let closed = inspections
        .get_finding(pb::GetFindingRequest {
            name: f.name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(closed.status, pb::FindingStatus::Closed as i32);
    let logged = app.own_entries("compliance.notices.verify", 1).await;
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].resource, n.name);
}

async fn an_overdue_notice_is_escalated_once_to_the_head_and_the_inspector(backend: Backend) {
    let (app, clock) = service(backend).await;
    let f = finding(&app).await;
    let n = issue(&app, &f, NOW + DAY).await;
    let mut reader = hank(&app);
    let overdue_list = |client: &mut RectificationClient| {
        let mut client = client.clone();
        async move {
            client
                .list_notices(pb::ListNoticesRequest {
                    overdue_only: true,
                    ..Default::default()
                })
                .await
                .expect("listed")
                .into_inner()
                .notices
        }
    };
    assert!(overdue_list(&mut reader).await.is_empty());

    clock.advance(DAY + 60_000);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let escalated = loop {
        let current = reader
            .get_notice(pb::GetNoticeRequest {
                name: n.name.clone(),
            })
            .await
            .expect("read")
            .into_inner();
        if current.escalate_time.is_some() {
            break current;
        }
        assert!(std::time::Instant::now() < deadline, "never escalated");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(escalated.escalate_time, ts(NOW + DAY + 60_000));
    assert_eq!(escalated.deadline.as_ref().map(|d| d.overdue), Some(true));
    let overdue = escalated.history.last().expect("an entry");
    assert_eq!(overdue.action, "overdue");
    assert!(
        overdue.detail.contains("hank") && overdue.detail.contains("ann"),
        "{}",
        overdue.detail
    );
    assert_eq!(
        overdue_list(&mut reader)
            .await
            .iter()
            .map(|n| n.name.clone())
            .collect::<Vec<_>>(),
        std::slice::from_ref(&n.name)
    );

    // More sweeps, later: still once.
    clock.advance(DAY);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = reader
        .get_notice(pb::GetNoticeRequest {
            name: n.name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(
        later
            .history
            .iter()
            .filter(|e| e.action == "overdue")
            .count(),
        1
    );
    let logged = app.own_entries("compliance.notices.overdue", 1).await;
    assert_eq!(logged.len(), 1);
    assert!(logged[0].detail.contains("hank"), "{}", logged[0].detail);
}

async fn bad_notices_are_named_and_change_nothing(backend: Backend) {
    let (app, _clock) = service(backend).await;
    let f = finding(&app).await;
    let mut ann = ann(&app);
    let bad = ann
        .issue_notice(pb::IssueNoticeRequest {
            findings: vec!["findings/x".into()],
            department: String::new(),
            department_head: String::new(),
            requirements: String::new(),
            ..Default::default()
        })
        .await
        .expect_err("bad");
    assert_eq!(bad.code(), Code::InvalidArgument);
    for field in ["findings[0]", "department", "requirements", "time_limit"] {
        assert!(bad.message().contains(field), "{field}: {}", bad.message());
    }
    let past = ann
        .issue_notice(pb::IssueNoticeRequest {
            findings: vec![f.name.clone()],
            department: "sales".into(),
            department_head: "hank".into(),
            requirements: "r".into(),
            due_time: ts(NOW - DAY),
            ..Default::default()
        })
        .await
        .expect_err("in the past");
    assert!(past.message().contains("due_time"), "{}", past.message());
    let elsewhere = ann
        .issue_notice(pb::IssueNoticeRequest {
            findings: vec![f.name.clone()],
            department: "finance".into(),
            department_head: "fay".into(),
            requirements: "r".into(),
            due_time: ts(NOW + DAY),
            ..Default::default()
        })
        .await
        .expect_err("another department's finding");
    assert_eq!(elsewhere.code(), Code::InvalidArgument);
    assert!(
        elsewhere
            .message()
            .contains("one notice goes to one department"),
        "{}",
        elsewhere.message()
    );
    let still = auditor(&app)
        .get_finding(pb::GetFindingRequest {
            name: f.name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(still, f, "the finding is untouched");
    let none = ann
        .list_notices(pb::ListNoticesRequest::default())
        .await
        .expect("listed")
        .into_inner();
    assert!(none.notices.is_empty());
}
