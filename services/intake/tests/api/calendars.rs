//! Intake on the company's time: its ledger years follow the company's
//! zone, and its clocks follow the calendar versions the keeper (the
//! workflow service) sends.

use chrono::TimeZone as _;
use procedo_platform::identity::Role;
use procedo_platform::time::Clock;
use procedo_proto::calendar as cal;
use procedo_proto::common;
use procedo_proto::common::event_sink_service_client::EventSinkServiceClient;
use procedo_proto::events;
use procedo_proto::intake as pb;
use procedo_testkit::calendar::{calendars, office, shanghai_december};
use procedo_testkit::{Backend, Bearer, backend_tests};
use prost::Message as _;
use tonic::Code;

use crate::helpers::{TestIntake, application_type, inquiry, ms, submission, violated_fields};

backend_tests!(
    an_application_filed_at_seven_on_new_years_morning_in_beijing_takes_the_new_years_number,
    a_calendar_version_from_the_keeper_moves_running_clocks_and_leaves_met_ones,
    calendars_are_changed_at_the_keeper_and_read_everywhere,
    lists_filter_clocks_that_are_overdue_paused_or_due_within_a_while,
);

/// Intake in Shanghai with its clock standing at `at`.
async fn in_shanghai_december(backend: Backend, at: i64) -> (TestIntake, Clock) {
    let clock = Clock::manual(at);
    let set = clock.clone();
    let app = TestIntake::spawn_with(backend, move |c| {
        c.company.time_zone = Some(chrono_tz::Asia::Shanghai);
        c.company.clock = set;
    })
    .await;
    (app, clock)
}

async fn create_type(app: &TestIntake, limit: common::time_limit::Kind, calendar: &str) {
    let mut t = application_type("loan", &[("ID card", true)]);
    t.processing_time_limit = None;
    t.processing_limit = Some(common::TimeLimit { kind: Some(limit) });
    t.calendar_id = calendar.into();
    app.client(Role::Admin)
        .create_application_type(pb::CreateApplicationTypeRequest {
            request_id: String::new(),
            application_type: Some(t),
        })
        .await
        .expect("the type is created");
}

async fn an_application_filed_at_seven_on_new_years_morning_in_beijing_takes_the_new_years_number(
    backend: Backend,
) {
    // 23:59 on 31 December 2025 in Beijing, then 07:00 on 1 January 2026
    // there — still 31 December in UTC.
    let new_years_eve = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2025, 12, 31, 23, 59, 0)
        .single()
        .expect("a time")
        .timestamp_millis();
    let (app, clock) = in_shanghai_december(backend, new_years_eve).await;
    create_type(&app, common::time_limit::Kind::WorkingDays(5), "").await;
    let last = app
        .submit(submission("loan", "Wang Fang", &["ID card"]))
        .await;
    assert_eq!(last.ledger_number, "SQ-2025-000001");

    let seven_in_beijing = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 1, 1, 7, 0, 0)
        .single()
        .expect("a time")
        .timestamp_millis();
    assert_eq!(
        chrono::DateTime::from_timestamp_millis(seven_in_beijing)
            .map(|t| t.date_naive().to_string()),
        Some("2025-12-31".into()),
        "still the old year in UTC"
    );
    clock.set(seven_in_beijing);
    let first = app.submit(submission("loan", "Li Lei", &["ID card"])).await;
    assert_eq!(first.ledger_number, "SQ-2026-000001");
    assert_eq!(ms(first.submit_time), seven_in_beijing);
}

/// The keeper's event carrying `calendar`.
fn changed(calendar: &cal::Calendar) -> common::DeliverRequest {
    common::DeliverRequest {
        event: Some(common::Event {
            id: uuid::Uuid::now_v7().to_string(),
            source: "procedo.workflow".into(),
            r#type: events::calendar::CHANGED.into(),
            subject: format!("calendars/{}", calendar.id),
            data: Some(prost_types::Any {
                type_url: format!("type.googleapis.com/{}", events::calendar::CALENDAR),
                value: calendar.encode_to_vec(),
            }),
            ..Default::default()
        }),
    }
}

/// The default (or another) calendar as the keeper sends it, at `version`.
fn sent(id: &str, version: i64, holidays: &[&str]) -> cal::Calendar {
    let named: Vec<(&str, &str)> = holidays.iter().map(|d| ("Announced late", *d)).collect();
    cal::Calendar {
        company_default: id == "default",
        version,
        ..office(id, &named)
    }
}

async fn a_calendar_version_from_the_keeper_moves_running_clocks_and_leaves_met_ones(
    backend: Backend,
) {
    let (app, clock) = in_shanghai_december(backend, shanghai_december(7, 10)).await;
    let sink = || {
        EventSinkServiceClient::with_interceptor(
            app.server.channel.clone(),
            Bearer(Some(app.tokens.token(Role::Service))),
        )
    };
    // Before any version arrives, intake counts on the configured calendar.
    create_type(&app, common::time_limit::Kind::WorkingDays(2), "").await;
    let running = app
        .submit(submission("loan", "Wang Fang", &["ID card"]))
        .await;
    let decided = app.submit(submission("loan", "Li Lei", &["ID card"])).await;
    // Monday 10:00 plus two working days: Wednesday 10:00.
    let due = |a: &pb::Application| ms(a.processing.clone().expect("a clock").due_time);
    assert_eq!(due(&running), shanghai_december(9, 10));
    clock.set(shanghai_december(8, 11));
    app.client(Role::IntakeClerk)
        .review_application(pb::ReviewApplicationRequest {
            name: decided.name.clone(),
            etag: decided.etag.clone(),
            decision: pb::ReviewDecision::Reject as i32,
            rejection: Some(pb::Rejection {
                reason: pb::RejectionReason::OutOfScope as i32,
                explanation: "Not offered.".into(),
            }),
            ..Default::default()
        })
        .await
        .expect("rejected on Tuesday");
    let mut phone = inquiry(pb::Channel::Phone);
    phone.text = "When is my loan decided?".into();
    let asked = app
        .client(Role::IntakeClerk)
        .create_inquiry(phone)
        .await
        .expect("an inquiry")
        .into_inner();
    let asked_due = ms(asked.response.clone().expect("a clock").due_time);

    // Version 1 is the configured calendar: nothing moves.
    let first = sink()
        .deliver(changed(&sent("default", 1, &[])))
        .await
        .expect("delivered")
        .into_inner();
    assert!(!first.duplicate);
    let read = |name: String| {
        let mut client = app.client(Role::IntakeClerk);
        async move {
            client
                .get_application(pb::GetApplicationRequest { name })
                .await
                .expect("read")
                .into_inner()
        }
    };
    assert_eq!(
        due(&read(running.name.clone()).await),
        shanghai_december(9, 10)
    );

    // Version 2 declares Tuesday 8 December a day off.
    let second = changed(&sent("default", 2, &["2026-12-08"]));
    sink().deliver(second.clone()).await.expect("delivered");
    let moved = read(running.name.clone()).await;
    assert_eq!(
        due(&moved),
        shanghai_december(10, 10),
        "a working day later"
    );
    assert_eq!(ms(moved.due_time), shanghai_december(10, 10));
    let met = read(decided.name.clone()).await;
    let met_clock = met.processing.expect("a clock");
    assert_eq!(met_clock.state(), common::DeadlineState::Met);
    assert_eq!(
        ms(met_clock.due_time),
        shanghai_december(9, 10),
        "as it was"
    );
    let history = app
        .client(Role::IntakeClerk)
        .list_application_history(pb::ListApplicationHistoryRequest {
            name: running.name.clone(),
            ..Default::default()
        })
        .await
        .expect("history")
        .into_inner()
        .entries;
    let entry = history
        .iter()
        .find(|e| e.action == "deadline_moved")
        .expect("the move is in the history");
    assert!(
        entry
            .reason
            .contains("from 2026-12-09 10:00 CST to 2026-12-10 10:00 CST by version 2"),
        "{}",
        entry.reason
    );
    assert_eq!(entry.from_status, entry.to_status, "the status stays");

    // The inquiry's four-hour elapsed limit is not working time: it stays.
    let inquiry_now = app
        .client(Role::IntakeClerk)
        .get_inquiry(pb::GetInquiryRequest {
            name: asked.name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(
        ms(inquiry_now.response.expect("a clock").due_time),
        asked_due
    );

    // A redelivered or older version changes nothing.
    assert!(
        sink()
            .deliver(second)
            .await
            .expect("acknowledged")
            .into_inner()
            .duplicate
    );
    sink()
        .deliver(changed(&sent("default", 1, &[])))
        .await
        .expect("an older version is acknowledged");
    assert_eq!(
        due(&read(running.name.clone()).await),
        shanghai_december(10, 10)
    );
    let held = calendars(&app.server.channel, app.tokens.token(Role::Auditor))
        .get_calendar(cal::GetCalendarRequest { id: String::new() })
        .await
        .expect("intake's copy")
        .into_inner();
    assert_eq!((held.id.as_str(), held.version), ("default", 2));
}

async fn calendars_are_changed_at_the_keeper_and_read_everywhere(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    let calendars = |role: Role| calendars(&app.server.channel, app.tokens.token(role));
    let seed = calendars(Role::Auditor)
        .get_calendar(cal::GetCalendarRequest { id: String::new() })
        .await
        .expect("the configured calendar")
        .into_inner();
    assert_eq!((seed.id.as_str(), seed.version), ("default", 0));
    assert!(seed.company_default);
    let refused = calendars(Role::Admin)
        .put_calendar(cal::PutCalendarRequest {
            calendar: Some(office("site-b", &[])),
            ..Default::default()
        })
        .await
        .expect_err("changed at workflow");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("workflow"),
        "{}",
        refused.message()
    );

    let mut t = application_type("loan", &[("ID card", true)]);
    t.calendar_id = "site-b".into();
    let unknown = app
        .client(Role::Admin)
        .create_application_type(pb::CreateApplicationTypeRequest {
            request_id: String::new(),
            application_type: Some(t),
        })
        .await
        .expect_err("no such calendar");
    assert_eq!(violated_fields(&unknown), ["application_type.calendar_id"]);
}

async fn lists_filter_clocks_that_are_overdue_paused_or_due_within_a_while(backend: Backend) {
    let (app, clock) = in_shanghai_december(backend, shanghai_december(7, 10)).await;
    create_type(&app, common::time_limit::Kind::WorkingDays(2), "").await;
    let running = app
        .submit(submission("loan", "Wang Fang", &["ID card"]))
        .await;
    let waiting = app.submit(submission("loan", "Li Lei", &[])).await;
    assert_eq!(waiting.status(), pb::ApplicationStatus::Incomplete);
    let asked = app
        .client(Role::IntakeClerk)
        .create_inquiry(inquiry(pb::Channel::Phone))
        .await
        .expect("an inquiry")
        .into_inner();
    let hours = |h: i64| prost_types::Duration {
        seconds: h * 3600,
        nanos: 0,
    };
    let ledger = |filter: pb::LedgerFilter| {
        let mut client = app.client(Role::IntakeClerk);
        async move {
            client
                .query_ledger(pb::QueryLedgerRequest {
                    filter: Some(filter),
                    ..Default::default()
                })
                .await
                .map(|r| {
                    r.into_inner()
                        .entries
                        .into_iter()
                        .map(|e| e.application)
                        .collect::<Vec<_>>()
                })
        }
    };
    let inquiries = |request: pb::ListInquiriesRequest| {
        let mut client = app.client(Role::IntakeClerk);
        async move {
            client.list_inquiries(request).await.map(|r| {
                r.into_inner()
                    .inquiries
                    .into_iter()
                    .map(|i| i.name)
                    .collect::<Vec<_>>()
            })
        }
    };

    // Monday 10:00: the application is due Wednesday 10:00, the phone
    // inquiry at 14:00.
    let within = |h| pb::LedgerFilter {
        due_within: Some(hours(h)),
        ..Default::default()
    };
    assert_eq!(
        ledger(within(24)).await.expect("listed"),
        Vec::<String>::new()
    );
    assert_eq!(
        ledger(within(49)).await.expect("listed"),
        std::slice::from_ref(&running.name)
    );
    let paused = pb::LedgerFilter {
        paused_only: true,
        ..Default::default()
    };
    assert_eq!(
        ledger(paused.clone()).await.expect("listed"),
        std::slice::from_ref(&waiting.name)
    );
    let overdue = pb::LedgerFilter {
        overdue_only: true,
        ..Default::default()
    };
    assert!(ledger(overdue.clone()).await.expect("listed").is_empty());
    let soon = |h| pb::ListInquiriesRequest {
        due_within: Some(hours(h)),
        ..Default::default()
    };
    assert!(inquiries(soon(3)).await.expect("listed").is_empty());
    assert_eq!(
        inquiries(soon(5)).await.expect("listed"),
        std::slice::from_ref(&asked.name)
    );

    // Thursday: both ran out; the paused one did not.
    clock.set(shanghai_december(10, 9));
    assert_eq!(
        ledger(overdue).await.expect("listed"),
        std::slice::from_ref(&running.name)
    );
    assert!(ledger(within(49)).await.expect("listed").is_empty());
    assert_eq!(
        ledger(paused).await.expect("listed"),
        std::slice::from_ref(&waiting.name)
    );
    let late = pb::ListInquiriesRequest {
        overdue_only: true,
        ..Default::default()
    };
    assert_eq!(
        inquiries(late).await.expect("listed"),
        std::slice::from_ref(&asked.name)
    );

    let both = ledger(pb::LedgerFilter {
        overdue_only: true,
        due_within: Some(hours(1)),
        ..Default::default()
    })
    .await
    .expect_err("two clock filters");
    assert_eq!(violated_fields(&both), ["filter.due_within"]);
    let negative = inquiries(pb::ListInquiriesRequest {
        due_within: Some(prost_types::Duration {
            seconds: -60,
            nanos: 0,
        }),
        ..Default::default()
    })
    .await
    .expect_err("a negative while");
    assert_eq!(violated_fields(&negative), ["due_within"]);
}
