//! One calendar for the company: changed at workflow, it reaches intake,
//! whose running clocks follow it (DESIGN §9).

use procedo_platform::identity::Role;
use procedo_proto::calendar as cal;
use procedo_proto::common;
use procedo_proto::intake as intake_pb;
use procedo_testkit::{Backend, backend_tests};
use procedo_tests::{Cluster, eventually};

backend_tests!(a_holiday_declared_at_workflow_moves_an_application_clock_at_intake);

fn ms(t: Option<prost_types::Timestamp>) -> i64 {
    let t = t.expect("a time");
    t.seconds * 1000 + i64::from(t.nanos / 1_000_000)
}

async fn a_holiday_declared_at_workflow_moves_an_application_clock_at_intake(backend: Backend) {
    let cluster = Cluster::start(backend).await;
    let auditor = cluster.tokens.token(Role::Auditor);

    // Workflow stored the configured calendar as version 1 and told intake.
    eventually("intake holds version 1 of the default calendar", || {
        let mut calendars = cluster.intake_calendars(auditor.clone());
        async move {
            let held = calendars
                .get_calendar(cal::GetCalendarRequest { id: String::new() })
                .await
                .ok()?
                .into_inner();
            (held.version == 1).then_some(())
        }
    })
    .await;

    cluster
        .intake(cluster.admin())
        .create_application_type(intake_pb::CreateApplicationTypeRequest {
            request_id: String::new(),
            application_type: Some(intake_pb::ApplicationType {
                code: "permit".into(),
                display_name: "Permit".into(),
                in_scope: true,
                processing_limit: Some(common::TimeLimit {
                    kind: Some(common::time_limit::Kind::WorkingDays(3)),
                }),
                process_key: "standard".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("type");
    let filed = cluster
        .intake(cluster.tokens.token(Role::IntakeClerk))
        .submit_application(intake_pb::SubmitApplicationRequest {
            type_code: "permit".into(),
            applicant: Some(intake_pb::Applicant {
                name: "Zhao Min".into(),
                phone: "+86 10 5555 0100".into(),
                ..Default::default()
            }),
            matter: Some(intake_pb::Matter {
                title: "Shop sign".into(),
                description: "A sign over the door".into(),
            }),
            ..Default::default()
        })
        .await
        .expect("submitted")
        .into_inner();
    let due = ms(filed.due_time);
    let due_date = chrono::DateTime::from_timestamp_millis(due)
        .expect("a time")
        .date_naive();

    // The day the clock runs out is declared a holiday, at workflow.
    let mut calendars = cluster.workflow_calendars(cluster.admin()).await;
    let mut current = calendars
        .get_calendar(cal::GetCalendarRequest { id: String::new() })
        .await
        .expect("the default")
        .into_inner();
    current.holidays.push(cal::Holiday {
        name: "Declared late".into(),
        start_date: due_date.to_string(),
        end_date: String::new(),
    });
    let etag = current.etag.clone();
    calendars
        .put_calendar(cal::PutCalendarRequest {
            calendar: Some(current),
            etag,
            request_id: String::new(),
        })
        .await
        .expect("changed");

    let moved = eventually("intake moves the application's clock", || {
        let mut intake = cluster.intake(cluster.tokens.token(Role::IntakeClerk));
        let name = filed.name.clone();
        async move {
            let read = intake
                .get_application(intake_pb::GetApplicationRequest { name })
                .await
                .ok()?
                .into_inner();
            (ms(read.due_time) > due).then_some(read)
        }
    })
    .await;
    let new_due = chrono::DateTime::from_timestamp_millis(ms(moved.due_time)).expect("a time");
    assert!(
        new_due.date_naive() > due_date,
        "past the holiday: {new_due}"
    );
    let history = cluster
        .intake(cluster.tokens.token(Role::IntakeClerk))
        .list_application_history(intake_pb::ListApplicationHistoryRequest {
            name: filed.name.clone(),
            ..Default::default()
        })
        .await
        .expect("history")
        .into_inner()
        .entries;
    assert!(
        history
            .iter()
            .any(|e| e.action == "deadline_moved" && e.reason.contains("version 2")),
        "{history:?}"
    );
}
