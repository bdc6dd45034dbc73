//! What ran out is reported to the compliance service once: an inquiry
//! unanswered past its response deadline, an application still being
//! handled past its processing time limit.

use std::time::Duration;

use procedo_platform::identity::Role;
use procedo_platform::outbox;
use procedo_platform::paging::Page;
use procedo_platform::time::Clock;
use procedo_proto::events;
use procedo_proto::intake as pb;
use procedo_testkit::{Backend, backend_tests};
use prost::Message as _;

use crate::helpers::{TestIntake, application_type, inquiry, submission};

backend_tests!(
    what_ran_out_is_reported_to_compliance_once,
    an_inquiry_answered_late_is_reported_with_when_its_deadline_passed,
);

const START: i64 = 1_790_000_000_000;
const HOUR: i64 = 3_600_000;

/// The reports queued for compliance: (type, resource, department).
async fn reports(app: &TestIntake) -> Vec<(String, String, String)> {
    let page = Page {
        size: 500,
        after: None,
    };
    let mut rows: Vec<(String, String, String)> =
        outbox::list(&app.db, "compliance", None, None, &page)
            .await
            .expect("the outbox")
            .into_iter()
            .map(|r| {
                let change = pb::StatusChanged::decode(
                    r.event.data.map(|d| d.value).unwrap_or_default().as_slice(),
                )
                .expect("a StatusChanged");
                (r.event.r#type, change.resource, change.department)
            })
            .collect();
    rows.sort();
    rows
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
    let mut t = application_type("permit", &[("ID card", true)]);
    t.handling_department = "licensing".into();
    app.client(Role::Admin)
        .create_application_type(pb::CreateApplicationTypeRequest {
            request_id: String::new(),
            application_type: Some(t),
        })
        .await
        .expect("a type");
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
    assert!(reports(&app).await.is_empty());

    // The phone inquiry's four hours pass; then the application's five days.
    clock.advance(2 * HOUR);
    clock.advance(5 * 24 * HOUR);
    let expected = {
        let mut e = vec![
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
        e.sort();
        e
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while reports(&app).await.len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(reports(&app).await, expected);
    // Later sweeps report nothing again.
    clock.advance(HOUR);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(reports(&app).await, expected);
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
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let page = Page {
        size: 10,
        after: None,
    };
    let reported = loop {
        let rows = outbox::list(&app.db, "compliance", None, None, &page)
            .await
            .expect("the outbox");
        if let Some(row) = rows.into_iter().next() {
            break row;
        }
        assert!(std::time::Instant::now() < deadline, "never reported");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(reported.event.r#type, events::intake::INQUIRY_ANSWERED_LATE);
    let change = pb::StatusChanged::decode(
        reported
            .event
            .data
            .map(|d| d.value)
            .unwrap_or_default()
            .as_slice(),
    )
    .expect("a StatusChanged");
    assert_eq!(change.resource, late.name);
    assert_eq!(
        change.due_time,
        Some(procedo_platform::time::to_timestamp(START + 4 * HOUR)),
        "the phone channel's four hours"
    );
}
