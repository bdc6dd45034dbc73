//! Regulatory filings (§5.2.3): an obligation owes a filing per period,
//! each reminded once when upcoming and escalated once when overdue, and
//! submitted by its responsible person with the documents sent and the
//! regulator's reference.

use std::time::Duration;

use chrono::TimeZone as _;
use procedo_platform::identity::Role;
use procedo_platform::time::Clock;
use procedo_proto::common;
use procedo_proto::compliance as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{FilingClient, TestCompliance};

backend_tests!(
    a_monthly_obligation_owes_a_filing_per_period_reminded_and_escalated_once,
    a_one_off_obligation_owes_one_filing,
    bad_obligations_and_submissions_are_named_and_change_nothing,
);

/// Midnight at the start of `d` `m` 2026, Shanghai.
fn at(m: u32, d: u32) -> i64 {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, m, d, 0, 0, 0)
        .single()
        .expect("a time")
        .timestamp_millis()
}

fn ts(ms: i64) -> Option<prost_types::Timestamp> {
    Some(procedo_platform::time::to_timestamp(ms))
}

fn days(n: i64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: n * 86_400,
        nanos: 0,
    })
}

async fn service(backend: Backend, now: i64) -> (TestCompliance, Clock) {
    let clock = Clock::manual(now);
    let set = clock.clone();
    let app = TestCompliance::spawn_with(backend, move |c| {
        c.company.time_zone = Some(chrono_tz::Asia::Shanghai);
        c.company.clock = set;
        c.service.deadline_sweep = Duration::from_millis(50);
    })
    .await;
    (app, clock)
}

fn admin(app: &TestCompliance) -> FilingClient {
    app.filings(app.tokens.token(Role::Admin))
}

fn rita(app: &TestCompliance) -> FilingClient {
    app.filings(app.tokens.token_for("rita", "finance", &[Role::Executor]))
}

fn vat() -> pb::CreateObligationRequest {
    pb::CreateObligationRequest {
        regulator: "Shanghai Tax Bureau".into(),
        subject: "Monthly VAT return".into(),
        recurrence: pb::Recurrence::Monthly as i32,
        responsible: "rita".into(),
        department: "finance".into(),
        escalate_to: "fred".into(),
        lead_time: days(5),
        due_after: days(15),
        first_period_time: ts(at(10, 5)),
        ..Default::default()
    }
}

async fn filings(client: &mut FilingClient, r: pb::ListFilingsRequest) -> Vec<pb::Filing> {
    client
        .list_filings(r)
        .await
        .expect("listed")
        .into_inner()
        .filings
}

/// Waits until `check` holds of filing `name` as its responsible person
/// reads it.
async fn filing_until(
    app: &TestCompliance,
    name: &str,
    check: impl Fn(&pb::Filing) -> bool,
) -> pb::Filing {
    let mut client = rita(app);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let f = client
            .get_filing(pb::GetFilingRequest { name: name.into() })
            .await
            .expect("read")
            .into_inner();
        if check(&f) {
            return f;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{name} never got there: {f:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_monthly_obligation_owes_a_filing_per_period_reminded_and_escalated_once(
    backend: Backend,
) {
    let (app, clock) = service(backend, at(11, 20)).await;
    let obligation = admin(&app)
        .create_obligation(vat())
        .await
        .expect("created")
        .into_inner();
    assert!(obligation.active);

    // October's and November's are owed at once, soonest due first.
    let mut auditor = app.filings(app.tokens.token(Role::Auditor));
    let owed = filings(&mut auditor, pb::ListFilingsRequest::default()).await;
    let periods: Vec<(&str, Option<prost_types::Timestamp>)> = owed
        .iter()
        .map(|f| {
            (
                f.period.as_str(),
                f.deadline.as_ref().and_then(|d| d.due_time),
            )
        })
        .collect();
    // Due fifteen days after the period ends: the end of the 15th.
    assert_eq!(
        periods,
        [("2026-10", ts(at(11, 16))), ("2026-11", ts(at(12, 16)))]
    );
    let (october, november) = (owed[0].clone(), owed[1].clone());
    assert_eq!(october.obligation, obligation.name);
    assert_eq!(november.remind_time, ts(at(12, 11)));

    // October's is overdue: escalated once, to rita and fred.
    let escalated = filing_until(&app, &october.name, |f| f.escalate_time.is_some()).await;
    assert_eq!(escalated.escalate_time, ts(at(11, 20)));
    let last = escalated.history.last().expect("an entry");
    assert_eq!(last.action, "overdue");
    assert!(
        last.detail.contains("rita") && last.detail.contains("fred"),
        "{}",
        last.detail
    );
    let overdue = filings(
        &mut auditor,
        pb::ListFilingsRequest {
            overdue_only: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        overdue.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        [october.name.as_str()]
    );

    // December begins: its filing is owed; on the 11th November's is upcoming.
    clock.set(at(12, 11) + 1);
    let reminded = filing_until(&app, &november.name, |f| f.reminded_time.is_some()).await;
    assert_eq!(
        reminded.history.last().map(|e| e.action.as_str()),
        Some("upcoming")
    );
    let upcoming = filings(
        &mut auditor,
        pb::ListFilingsRequest {
            upcoming_only: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        upcoming.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        [november.name.as_str()]
    );
    let all = filings(&mut auditor, pb::ListFilingsRequest::default()).await;
    assert_eq!(
        all.iter().map(|f| f.period.as_str()).collect::<Vec<_>>(),
        ["2026-10", "2026-11", "2026-12"]
    );

    // Only rita submits; fred, escalated to, reads it.
    let mut fred = app.filings(
        app.tokens
            .token_for("fred", "finance", &[Role::DepartmentHead]),
    );
    let refused = fred
        .submit_filing(pb::SubmitFilingRequest {
            name: october.name.clone(),
            documents: vec!["documents/0193a0c0-0000-7000-8000-000000000003".into()],
            regulator_reference: "R-1".into(),
            ..Default::default()
        })
        .await
        .expect_err("not responsible");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let mut rita = rita(&app);
    let submitted = rita
        .submit_filing(pb::SubmitFilingRequest {
            name: october.name.clone(),
            etag: escalated.etag.clone(),
            documents: vec!["documents/0193a0c0-0000-7000-8000-000000000003".into()],
            regulator_reference: "SH-VAT-2026-10-0042".into(),
            notes: "Filed online".into(),
            ..Default::default()
        })
        .await
        .expect("submitted")
        .into_inner();
    assert_eq!(submitted.status, pb::FilingStatus::Submitted as i32);
    assert_eq!(submitted.regulator_reference, "SH-VAT-2026-10-0042");
    assert_eq!(
        submitted.submitted_by.as_ref().map(|a| a.subject.as_str()),
        Some("rita")
    );
    assert_eq!(
        submitted.deadline.as_ref().map(|d| d.state),
        Some(common::DeadlineState::Met as i32)
    );
    assert!(
        submitted
            .history
            .last()
            .is_some_and(|e| e.detail.ends_with("late"))
    );
    let twice = rita
        .submit_filing(pb::SubmitFilingRequest {
            name: october.name.clone(),
            documents: vec!["documents/0193a0c0-0000-7000-8000-000000000003".into()],
            regulator_reference: "again".into(),
            ..Default::default()
        })
        .await
        .expect_err("submitted already");
    assert_eq!(twice.code(), Code::FailedPrecondition);
    assert!(
        twice.message().contains("SUBMITTED") && twice.message().contains("PENDING"),
        "{}",
        twice.message()
    );

    // Someone with nothing to file sees nothing; rita sees hers.
    let mut bob = app.filings(app.tokens.token_for("bob", "sales", &[Role::Executor]));
    assert!(
        filings(&mut bob, pb::ListFilingsRequest::default())
            .await
            .is_empty()
    );
    let hidden = bob
        .get_filing(pb::GetFilingRequest {
            name: october.name.clone(),
        })
        .await
        .expect_err("not theirs");
    assert_eq!(hidden.code(), Code::NotFound);
    assert_eq!(
        filings(&mut rita, pb::ListFilingsRequest::default())
            .await
            .len(),
        3
    );

    // Later looks change nothing more: one reminder, one escalation each.
    clock.set(at(12, 20));
    let december = all[2].name.clone();
    let _ = filing_until(&app, &november.name, |f| f.escalate_time.is_some()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for f in filings(&mut auditor, pb::ListFilingsRequest::default()).await {
        let count = |action: &str| f.history.iter().filter(|e| e.action == action).count();
        assert!(count("upcoming") <= 1 && count("overdue") <= 1, "{f:?}");
        if f.name == december {
            assert_eq!(count("upcoming"), 0, "due 16 January");
        }
    }
    // Paging reads the same list in pieces.
    let mut token = String::new();
    let mut paged = Vec::new();
    loop {
        let page = auditor
            .list_filings(pb::ListFilingsRequest {
                page_size: 1,
                page_token: token,
                ..Default::default()
            })
            .await
            .expect("a page")
            .into_inner();
        paged.extend(page.filings.into_iter().map(|f| f.period));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(paged, ["2026-10", "2026-11", "2026-12"]);
    let logged = app.own_entries("compliance.filings.overdue", 2).await;
    assert_eq!(logged.len(), 2, "October's and November's");
}

async fn a_one_off_obligation_owes_one_filing(backend: Backend) {
    let (app, _clock) = service(backend, at(11, 20)).await;
    let obligation = admin(&app)
        .create_obligation(pb::CreateObligationRequest {
            recurrence: pb::Recurrence::OneOff as i32,
            subject: "Licence renewal".into(),
            due_after: None,
            first_period_time: None,
            due_time: ts(at(12, 31)),
            ..vat()
        })
        .await
        .expect("created")
        .into_inner();
    assert_eq!(obligation.due_time, ts(at(12, 31)));
    let mut auditor = app.filings(app.tokens.token(Role::Auditor));
    let owed = filings(&mut auditor, pb::ListFilingsRequest::default()).await;
    assert_eq!(owed.len(), 1);
    assert_eq!(owed[0].period, "once");
    assert_eq!(
        owed[0].deadline.as_ref().and_then(|d| d.due_time),
        ts(at(12, 31))
    );

    // Retired, it owes nothing more (what it owed stays).
    let retired = admin(&app)
        .retire_obligation(pb::RetireObligationRequest {
            name: obligation.name.clone(),
            etag: obligation.etag.clone(),
            ..Default::default()
        })
        .await
        .expect("retired")
        .into_inner();
    assert!(!retired.active);
    let again = admin(&app)
        .retire_obligation(pb::RetireObligationRequest {
            name: obligation.name.clone(),
            ..Default::default()
        })
        .await
        .expect_err("retired already");
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert_eq!(
        filings(&mut auditor, pb::ListFilingsRequest::default())
            .await
            .len(),
        1
    );
    let listed = auditor
        .list_obligations(pb::ListObligationsRequest::default())
        .await
        .expect("listed")
        .into_inner();
    assert!(
        listed.obligations.is_empty(),
        "retired ones only when asked"
    );
}

async fn bad_obligations_and_submissions_are_named_and_change_nothing(backend: Backend) {
    let (app, _clock) = service(backend, at(11, 20)).await;
    let bad = admin(&app)
        .create_obligation(pb::CreateObligationRequest {
            recurrence: pb::Recurrence::Monthly as i32,
            lead_time: days(400),
            due_time: ts(at(12, 1)),
            ..Default::default()
        })
        .await
        .expect_err("bad");
    assert_eq!(bad.code(), Code::InvalidArgument);
    for field in [
        "regulator",
        "subject",
        "responsible",
        "lead_time",
        "due_after",
        "first_period_time",
        "due_time",
    ] {
        assert!(bad.message().contains(field), "{field}: {}", bad.message());
    }
    let past = admin(&app)
        .create_obligation(pb::CreateObligationRequest {
            recurrence: pb::Recurrence::OneOff as i32,
            due_after: None,
            first_period_time: None,
            due_time: ts(at(11, 1)),
            ..vat()
        })
        .await
        .expect_err("in the past");
    assert!(past.message().contains("due_time"), "{}", past.message());
    let mut auditor = app.filings(app.tokens.token(Role::Auditor));
    assert!(
        filings(&mut auditor, pb::ListFilingsRequest::default())
            .await
            .is_empty()
    );

    admin(&app).create_obligation(vat()).await.expect("created");
    let owed = filings(&mut auditor, pb::ListFilingsRequest::default()).await;
    let bad = rita(&app)
        .submit_filing(pb::SubmitFilingRequest {
            name: owed[0].name.clone(),
            documents: vec!["nope".into()],
            ..Default::default()
        })
        .await
        .expect_err("bad");
    for field in ["documents[0]", "regulator_reference"] {
        assert!(bad.message().contains(field), "{field}: {}", bad.message());
    }
    let both = auditor
        .list_filings(pb::ListFilingsRequest {
            upcoming_only: true,
            overdue_only: true,
            ..Default::default()
        })
        .await
        .expect_err("one of them");
    assert_eq!(both.code(), Code::InvalidArgument);
    let forged = auditor
        .list_filings(pb::ListFilingsRequest {
            page_token: "7a7a".into(),
            ..Default::default()
        })
        .await
        .expect_err("not a token of this list");
    assert_eq!(forged.code(), Code::InvalidArgument);
    let unchanged = rita(&app)
        .get_filing(pb::GetFilingRequest {
            name: owed[0].name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(unchanged.status, pb::FilingStatus::Pending as i32);
}
