//! What intake reports to the compliance service, without the customer's
//! personal data: inquiries' first responses against their deadline and
//! their closing satisfaction, applications' decisions against their
//! processing limit, and — once each — what ran out: an inquiry unanswered
//! past its deadline (or answered after it), an application still being
//! handled past its limit.

use std::time::Duration;

use procedo_platform::identity::Role;
use procedo_platform::outbox;
use procedo_platform::paging::Page;
use procedo_platform::time::{Clock, to_timestamp};
use procedo_proto::events;
use procedo_proto::intake as pb;
use procedo_testkit::{Backend, backend_tests};
use prost::Message as _;

use crate::helpers::{TestIntake, application_type, inquiry, submission};

backend_tests!(
    what_ran_out_is_reported_to_compliance_once,
    an_inquiry_answered_late_is_reported_with_when_its_deadline_passed,
    responses_satisfaction_and_decisions_are_reported_without_personal_data,
);

const START: i64 = 1_790_000_000_000;
const HOUR: i64 = 3_600_000;

/// Everything queued for compliance, in the order written.
async fn queued(app: &TestIntake) -> Vec<(String, pb::StatusChanged)> {
    let page = Page::rows(500, None);
    let mut rows = outbox::list(&app.db, "compliance", None, None, &page)
        .await
        .expect("the outbox")
        .into_iter()
        .map(|r| {
            let change = pb::StatusChanged::decode(
                r.event.data.map(|d| d.value).unwrap_or_default().as_slice(),
            )
            .expect("a StatusChanged");
            (r.event.r#type, change)
        })
        .collect::<Vec<_>>();
    // The outbox lists newest first.
    rows.reverse();
    rows
}

/// The reports of what ran out: (type, resource, department), sorted.
async fn overdue(app: &TestIntake) -> Vec<(String, String, String)> {
    let kinds = [
        events::intake::INQUIRY_OVERDUE,
        events::intake::INQUIRY_ANSWERED_LATE,
        events::intake::APPLICATION_OVERDUE,
    ];
    let mut rows: Vec<(String, String, String)> = queued(app)
        .await
        .into_iter()
        .filter(|(kind, _)| kinds.contains(&kind.as_str()))
        .map(|(kind, c)| (kind, c.resource, c.department))
        .collect();
    rows.sort();
    rows
}

async fn wait_for<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what} never happened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn permit_type(app: &TestIntake) {
    let mut t = application_type("permit", &[("ID card", true)]);
    t.handling_department = "licensing".into();
    app.client(Role::Admin)
        .create_application_type(pb::CreateApplicationTypeRequest {
            request_id: String::new(),
            application_type: Some(t),
        })
        .await
        .expect("a type");
}

async fn what_ran_out_is_reported_to_compliance_once(backend: Backend) {
    let clock = Clock::manual(START);
    let set = clock.clone();
    let app = TestIntake::spawn_with(backend, move |c| {
        c.company.clock = set;
        c.service.overdue_sweep = Duration::from_millis(50);
    })
    .await;
    let mut clerk = app.client(Role::IntakeClerk);
    permit_type(&app).await;
    let late = clerk
        .create_inquiry(inquiry(pb::Channel::Phone))
        .await
        .expect("an inquiry")
        .into_inner();
    let answered = clerk
        .create_inquiry(inquiry(pb::Channel::Phone))
        .await
        .expect("an inquiry")
        .into_inner();
    clerk
        .respond_to_inquiry(pb::RespondToInquiryRequest {
            name: answered.name.clone(),
            etag: answered.etag.clone(),
            answer: "Weekdays 9 to 5".into(),
            ..Default::default()
        })
        .await
        .expect("answered in time");
    let application = app
        .submit(submission("permit", "Wang Fang", &["ID card"]))
        .await;

    // Nothing has run out yet.
    clock.advance(3 * HOUR);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(overdue(&app).await.is_empty());

    // The phone inquiry's four hours pass; then the application's five days.
    clock.advance(2 * HOUR);
    clock.advance(5 * 24 * HOUR);
    let mut expected = vec![
        (
            events::intake::APPLICATION_OVERDUE.to_owned(),
            application.name.clone(),
            "licensing".to_owned(),
        ),
        (
            events::intake::INQUIRY_OVERDUE.to_owned(),
            late.name.clone(),
            late.department.clone(),
        ),
    ];
    expected.sort();
    wait_for("both reports", async || {
        (overdue(&app).await.len() >= 2).then_some(())
    })
    .await;
    assert_eq!(overdue(&app).await, expected);
    // Later sweeps report nothing again.
    clock.advance(HOUR);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(overdue(&app).await, expected);
}

async fn an_inquiry_answered_late_is_reported_with_when_its_deadline_passed(backend: Backend) {
    let clock = Clock::manual(START);
    let set = clock.clone();
    // The timer first looks two seconds in: the inquiry is answered, late,
    // before it ever sees it running.
    let app = TestIntake::spawn_with(backend, move |c| {
        c.company.clock = set;
        c.service.overdue_sweep = Duration::from_secs(2);
    })
    .await;
    let mut clerk = app.client(Role::IntakeClerk);
    let late = clerk
        .create_inquiry(inquiry(pb::Channel::Phone))
        .await
        .expect("an inquiry")
        .into_inner();
    clock.advance(5 * HOUR);
    clerk
        .respond_to_inquiry(pb::RespondToInquiryRequest {
            name: late.name.clone(),
            etag: late.etag.clone(),
            answer: "Weekdays 9 to 5".into(),
            ..Default::default()
        })
        .await
        .expect("answered, an hour late");
    let change = wait_for("the report", async || {
        queued(&app)
            .await
            .into_iter()
            .find(|(kind, _)| kind == events::intake::INQUIRY_ANSWERED_LATE)
            .map(|(_, c)| c)
    })
    .await;
    assert_eq!(change.resource, late.name);
    assert_eq!(
        change.due_time,
        Some(to_timestamp(START + 4 * HOUR)),
        "the phone channel's four hours"
    );
}

async fn responses_satisfaction_and_decisions_are_reported_without_personal_data(backend: Backend) {
    let clock = Clock::manual(START);
    let set = clock.clone();
    let app = TestIntake::spawn_with(backend, move |c| c.company.clock = set).await;
    let mut clerk = app.client(Role::IntakeClerk);
    permit_type(&app).await;
    let asked = clerk
        .create_inquiry(inquiry(pb::Channel::Phone))
        .await
        .expect("an inquiry")
        .into_inner();
    clock.advance(HOUR);
    let mut current = clerk
        .respond_to_inquiry(pb::RespondToInquiryRequest {
            name: asked.name.clone(),
            etag: asked.etag.clone(),
            answer: "Weekdays 9 to 5".into(),
            ..Default::default()
        })
        .await
        .expect("answered")
        .into_inner();
    // A second answer is not a first response.
    current = clerk
        .respond_to_inquiry(pb::RespondToInquiryRequest {
            name: asked.name.clone(),
            etag: current.etag.clone(),
            answer: "And Saturday mornings".into(),
            ..Default::default()
        })
        .await
        .expect("answered again")
        .into_inner();
    current = clerk
        .resolve_inquiry(pb::ResolveInquiryRequest {
            name: asked.name.clone(),
            etag: current.etag.clone(),
            resolution: "Opening hours sent".into(),
            ..Default::default()
        })
        .await
        .expect("resolved")
        .into_inner();
    clerk
        .close_inquiry(pb::CloseInquiryRequest {
            name: asked.name.clone(),
            etag: current.etag.clone(),
            satisfaction: 4,
            ..Default::default()
        })
        .await
        .expect("closed");
    let filed = app
        .submit(submission("permit", "Wang Fang", &["ID card"]))
        .await;
    clerk
        .review_application(pb::ReviewApplicationRequest {
            name: filed.name.clone(),
            decision: pb::ReviewDecision::Accept as i32,
            ..Default::default()
        })
        .await
        .expect("accepted");

    let reports = queued(&app).await;
    let kinds: Vec<(&str, &str)> = reports
        .iter()
        .map(|(kind, c)| (kind.as_str(), c.to_status.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (events::intake::INQUIRY_RESPONDED, "RESPONDED"),
            (events::intake::INQUIRY_CLOSED, "CLOSED"),
            (events::intake::APPLICATION_STATUS_CHANGED, "PENDING_REVIEW"),
            (events::intake::APPLICATION_STATUS_CHANGED, "ACCEPTED"),
        ]
    );
    let responded = &reports[0].1;
    assert_eq!(responded.resource, asked.name);
    // No department took it over: it is the answering clerk's desk's.
    assert!(asked.department.is_empty());
    assert_eq!(responded.department, "ops");
    assert_eq!(responded.due_time, Some(to_timestamp(START + 4 * HOUR)));
    assert_eq!(reports[1].1.satisfaction, 4);
    let accepted = &reports[3].1;
    assert_eq!(
        (accepted.department.as_str(), accepted.type_code.as_str()),
        ("licensing", "permit")
    );
    assert_eq!(accepted.ledger_number, filed.ledger_number);
    assert!(
        reports.iter().all(|(_, c)| c.customer.is_none()),
        "no customer's name, phone or e-mail leaves for compliance"
    );
}
