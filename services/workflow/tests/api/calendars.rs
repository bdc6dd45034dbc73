//! The company's calendars, kept at workflow: checked, versioned, guarded
//! by etags, imported from files, and followed by the open tasks' clocks.

use std::time::Duration;

use futures::StreamExt as _;
use procedo_platform::identity::Role;
use procedo_platform::time::Clock;
use procedo_proto::calendar as cal;
use procedo_proto::common;
use procedo_proto::workflow as pb;
use procedo_testkit::calendar::{self, CalendarClient, office, shanghai_december};
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{TestWorkflow, decide, small_definition, violated_fields};

backend_tests!(
    a_holiday_added_to_the_calendar_moves_an_open_tasks_due_time_and_leaves_a_completed_one,
    calendars_are_checked_versioned_and_guarded_by_their_etag,
    a_public_holiday_file_replaces_its_years_holidays_and_keeps_the_hours,
    a_rectification_is_given_by_a_deadline_or_a_limit_and_not_both,
);

fn calendars(app: &TestWorkflow, role: Role) -> CalendarClient {
    calendar::calendars(&app.server.channel, app.tokens.token(role))
}

fn ms(t: Option<prost_types::Timestamp>) -> i64 {
    let t = t.expect("a time");
    t.seconds * 1000 + i64::from(t.nanos / 1_000_000)
}

/// Workflow in Shanghai, its clock standing at Monday 7 December 2026
/// 10:00 there, with a two-working-day process deployed.
async fn shanghai_workflow(backend: Backend) -> (TestWorkflow, Clock) {
    let clock = Clock::manual(shanghai_december(7, 10));
    let set = clock.clone();
    let app = TestWorkflow::spawn_with(backend, move |c| {
        c.company.time_zone = Some(chrono_tz::Asia::Shanghai);
        c.company.clock = set;
    })
    .await;
    let mut definition = small_definition("errand", crate::helpers::hours(1));
    definition.steps[0].limit = Some(common::TimeLimit {
        kind: Some(common::time_limit::Kind::WorkingDays(2)),
    });
    app.client(Role::Admin)
        .deploy_process_definition(pb::DeployProcessDefinitionRequest {
            request_id: String::new(),
            definition: Some(definition),
        })
        .await
        .expect("deployed");
    (app, clock)
}

async fn start(app: &TestWorkflow, key: &str) -> String {
    app.person("li", "sales", &[Role::DepartmentHead], "", 0)
        .start_instance(pb::StartInstanceRequest {
            process_key: "errand".into(),
            business_key: key.into(),
            business_type: "purchase".into(),
            title: "Paper".into(),
            ..Default::default()
        })
        .await
        .expect("started")
        .into_inner()
        .name
}

async fn a_holiday_added_to_the_calendar_moves_an_open_tasks_due_time_and_leaves_a_completed_one(
    backend: Backend,
) {
    let (app, clock) = shanghai_workflow(backend).await;
    let open = start(&app, "po-1").await;
    let done = start(&app, "po-2").await;
    let first = app.task(&open, "request", None).await;
    // Two working days from Monday 10:00: Wednesday 10:00.
    assert_eq!(ms(first.due_time), shanghai_december(9, 10));
    let deadline = first.deadline.clone().expect("a deadline");
    assert_eq!(deadline.state(), common::DeadlineState::Running);
    let finished = app.task(&done, "request", None).await;
    clock.set(shanghai_december(8, 11));
    app.person("wang", "sales", &[Role::Executor], "", 0)
        .complete_task(decide(&finished, pb::Decision::Complete, "done"))
        .await
        .expect("completed on Tuesday");

    // Tuesday 8 December is declared a day off, late.
    let current = calendars(&app, Role::Auditor)
        .get_calendar(cal::GetCalendarRequest { id: String::new() })
        .await
        .expect("the default calendar")
        .into_inner();
    assert_eq!((current.id.as_str(), current.version), ("default", 1));
    let mut changed = office("default", &[("Announced late", "2026-12-08")]);
    changed.company_default = true;
    let put = calendars(&app, Role::Admin)
        .put_calendar(cal::PutCalendarRequest {
            calendar: Some(changed),
            etag: current.etag.clone(),
            request_id: String::new(),
        })
        .await
        .expect("the calendar changes")
        .into_inner();
    assert_eq!(put.calendar.as_ref().map(|c| c.version), Some(2));
    assert_eq!(put.recomputed_deadlines, 1, "only the open task");

    let moved = app.task(&open, "request", None).await;
    assert_eq!(
        ms(moved.due_time),
        shanghai_december(10, 10),
        "a working day later"
    );
    assert_eq!(
        ms(moved.deadline.expect("a deadline").due_time),
        shanghai_december(10, 10)
    );
    let met = app
        .client(Role::Admin)
        .get_task(pb::GetTaskRequest {
            name: finished.name.clone(),
        })
        .await
        .expect("the completed task")
        .into_inner();
    let met_deadline = met.deadline.expect("a deadline");
    assert_eq!(met_deadline.state(), common::DeadlineState::Met);
    assert_eq!(
        ms(met_deadline.due_time),
        shanghai_december(9, 10),
        "as it was"
    );

    // The move is in the instance's history, old and new due time.
    let mut history = app
        .client(Role::Auditor)
        .watch_instance(pb::WatchInstanceRequest {
            name: open.clone(),
            after_sequence: 0,
        })
        .await
        .expect("watch")
        .into_inner();
    let moved_entry = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(entry) = history.next().await {
            let entry = entry.expect("an entry");
            if entry.action == "deadline_moved" {
                return entry;
            }
        }
        panic!("the history ended without the move")
    })
    .await
    .expect("the move is in the history");
    assert!(
        moved_entry
            .detail
            .contains("from 2026-12-09 10:00 CST to 2026-12-10 10:00 CST"),
        "{}",
        moved_entry.detail
    );
    assert_eq!(moved_entry.task, moved.name);

    // Tuesday 11:00: the moved task runs out Thursday 10:00 (the other
    // instance's review task, at 12:00 today).
    let listed = |request: pb::ListTasksRequest| {
        let mut client = app.client(Role::Admin);
        let instance = open.clone();
        async move {
            client
                .list_tasks(pb::ListTasksRequest {
                    status: pb::TaskStatus::Open as i32,
                    instance,
                    ..request
                })
                .await
                .map(|r| {
                    r.into_inner()
                        .tasks
                        .into_iter()
                        .map(|t| t.name)
                        .collect::<Vec<_>>()
                })
        }
    };
    let within = |hours: i64| pb::ListTasksRequest {
        due_within: Some(crate::helpers::hours(hours)),
        ..Default::default()
    };
    assert!(listed(within(24)).await.expect("listed").is_empty());
    assert_eq!(
        listed(within(48)).await.expect("listed"),
        std::slice::from_ref(&moved.name)
    );
    clock.set(shanghai_december(10, 11));
    let overdue = pb::ListTasksRequest {
        overdue_only: true,
        ..Default::default()
    };
    assert_eq!(
        listed(overdue).await.expect("listed"),
        std::slice::from_ref(&moved.name)
    );
    let both = listed(pb::ListTasksRequest {
        overdue_only: true,
        ..within(1)
    })
    .await
    .expect_err("two filters");
    assert_eq!(violated_fields(&both), ["due_within"]);

    let versions = calendars(&app, Role::Auditor)
        .list_calendar_versions(cal::ListCalendarVersionsRequest {
            id: "default".into(),
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .expect("versions")
        .into_inner();
    assert_eq!(versions.versions[0].version, 2, "newest first");
    let older = calendars(&app, Role::Auditor)
        .list_calendar_versions(cal::ListCalendarVersionsRequest {
            id: "default".into(),
            page_size: 1,
            page_token: versions.next_page_token,
        })
        .await
        .expect("versions")
        .into_inner();
    assert_eq!(older.versions[0].version, 1);
    assert!(older.versions[0].holidays.is_empty());
    assert!(older.next_page_token.is_empty());
}

async fn calendars_are_checked_versioned_and_guarded_by_their_etag(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let admin = || calendars(&app, Role::Admin);
    let put = |calendar: cal::Calendar, etag: &str| cal::PutCalendarRequest {
        calendar: Some(calendar),
        etag: etag.into(),
        request_id: String::new(),
    };

    let mut wrong = office("Site B", &[("", "2026-13-01")]);
    wrong.time_zone = "Mars/Olympus".into();
    wrong.hours[0].periods[0].end = "08:00".into();
    let refused = admin()
        .put_calendar(put(wrong, ""))
        .await
        .expect_err("a wrong calendar");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields = violated_fields(&refused);
    for field in [
        "calendar.id",
        "calendar.time_zone",
        "calendar.hours[0].periods[0]",
        "calendar.holidays[0].name",
        "calendar.holidays[0].start_date",
    ] {
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }
    let mut untitled = office("site-b", &[]);
    untitled.title.clear();
    assert_eq!(
        violated_fields(
            &admin()
                .put_calendar(put(untitled, ""))
                .await
                .expect_err("no title")
        ),
        ["calendar.title"]
    );
    let listed = admin()
        .list_calendars(cal::ListCalendarsRequest {})
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(listed.calendars.len(), 1, "nothing was stored");

    let denied = calendars(&app, Role::DepartmentHead)
        .put_calendar(put(office("site-b", &[]), ""))
        .await
        .expect_err("admins only");
    assert_eq!(denied.code(), Code::PermissionDenied);

    let first = admin()
        .put_calendar(put(office("site-b", &[]), ""))
        .await
        .expect("created")
        .into_inner()
        .calendar
        .expect("the calendar");
    assert_eq!((first.version, first.company_default), (1, false));
    let second = admin()
        .put_calendar(put(
            office("site-b", &[("Site day", "2026-12-24")]),
            &first.etag,
        ))
        .await
        .expect("replaced")
        .into_inner()
        .calendar
        .expect("the calendar");
    assert_eq!(second.version, 2);
    let stale = admin()
        .put_calendar(put(office("site-b", &[]), &first.etag))
        .await
        .expect_err("a stale etag");
    assert_eq!(stale.code(), Code::Aborted);

    let mut not_default = office("default", &[]);
    not_default.company_default = false;
    let kept = admin()
        .put_calendar(put(not_default, ""))
        .await
        .expect_err("the default stays the default");
    assert_eq!(kept.code(), Code::FailedPrecondition);

    let mut promoted = office("site-b", &[]);
    promoted.company_default = true;
    admin()
        .put_calendar(put(promoted, &second.etag))
        .await
        .expect("site-b becomes the default");
    let default = admin()
        .get_calendar(cal::GetCalendarRequest { id: String::new() })
        .await
        .expect("the default")
        .into_inner();
    assert_eq!((default.id.as_str(), default.version), ("site-b", 3));
    let old = admin()
        .get_calendar(cal::GetCalendarRequest {
            id: "default".into(),
        })
        .await
        .expect("the old default")
        .into_inner();
    assert!(!old.company_default);
    let missing = admin()
        .get_calendar(cal::GetCalendarRequest {
            id: "nowhere".into(),
        })
        .await
        .expect_err("no such calendar");
    assert_eq!(missing.code(), Code::NotFound);
}

async fn a_public_holiday_file_replaces_its_years_holidays_and_keeps_the_hours(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let admin = || calendars(&app, Role::Admin);
    admin()
        .put_calendar(cal::PutCalendarRequest {
            calendar: Some(office(
                "cn",
                &[
                    ("Guessed National Day", "2026-10-09"),
                    ("Kept from another year", "2027-01-01"),
                ],
            )),
            etag: String::new(),
            request_id: String::new(),
        })
        .await
        .expect("created");
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//holidays//CN\r\n\
        BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20261001\r\nDTEND;VALUE=DATE:20261008\r\n\
        SUMMARY:国庆节\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:2\r\nDTSTART;VALUE=DATE:20261010\r\nDTEND;VALUE=DATE:20261011\r\n\
        SUMMARY:国庆节 补班\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let imported = admin()
        .import_calendar(cal::ImportCalendarRequest {
            id: "cn".into(),
            format: cal::CalendarFormat::Icalendar as i32,
            content: ics.into(),
            ..Default::default()
        })
        .await
        .expect("imported")
        .into_inner()
        .calendar
        .expect("the calendar");
    assert_eq!(imported.version, 2);
    assert_eq!(imported.hours.len(), 5, "the hours stay");
    let holidays: Vec<(&str, &str, &str)> = imported
        .holidays
        .iter()
        .map(|h| (h.name.as_str(), h.start_date.as_str(), h.end_date.as_str()))
        .collect();
    assert_eq!(
        holidays,
        [
            ("Kept from another year", "2027-01-01", ""),
            ("国庆节", "2026-10-01", "2026-10-07"),
        ]
    );
    assert_eq!(imported.make_up_days.len(), 1);
    assert_eq!(imported.make_up_days[0].date, "2026-10-10");

    let recurring = admin()
        .import_calendar(cal::ImportCalendarRequest {
            id: "cn".into(),
            format: cal::CalendarFormat::Icalendar as i32,
            content: "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261225\n\
                      RRULE:FREQ=YEARLY\nSUMMARY:Christmas\nEND:VEVENT\nEND:VCALENDAR\n"
                .into(),
            ..Default::default()
        })
        .await
        .expect_err("a recurring event");
    assert_eq!(violated_fields(&recurring), ["content"]);
    assert!(
        recurring.message().contains("Christmas"),
        "{}",
        recurring.message()
    );
    let unformatted = admin()
        .import_calendar(cal::ImportCalendarRequest {
            id: "cn".into(),
            content: "hours: {}".into(),
            ..Default::default()
        })
        .await
        .expect_err("no format");
    assert_eq!(violated_fields(&unformatted), ["format"]);

    let yaml = admin()
        .import_calendar(cal::ImportCalendarRequest {
            id: "site-c".into(),
            title: "Site C".into(),
            format: cal::CalendarFormat::Yaml as i32,
            content: include_str!("../../../../examples/calendar.yaml").into(),
            ..Default::default()
        })
        .await
        .expect("a YAML calendar")
        .into_inner()
        .calendar
        .expect("the calendar");
    assert_eq!((yaml.title.as_str(), yaml.version), ("Site C", 1));
    assert_eq!(yaml.time_zone, "Asia/Shanghai");
    assert!(!yaml.holidays.is_empty());
}

async fn a_rectification_is_given_by_a_deadline_or_a_limit_and_not_both(backend: Backend) {
    let (app, _clock) = shanghai_workflow(backend).await;
    let name = start(&app, "po-1").await;
    let task = app.task(&name, "request", None).await;
    let both = app
        .person("wang", "sales", &[Role::Executor], "", 0)
        .complete_task(pb::CompleteTaskRequest {
            rectification_deadline: Some(prost_types::Timestamp {
                seconds: shanghai_december(20, 10) / 1000,
                nanos: 0,
            }),
            rectification_limit: Some(common::TimeLimit {
                kind: Some(common::time_limit::Kind::WorkingDays(3)),
            }),
            ..decide(&task, pb::Decision::Complete, "done")
        })
        .await
        .expect_err("a deadline and a limit");
    assert_eq!(violated_fields(&both), ["rectification_limit"]);
    let past = app
        .person("wang", "sales", &[Role::Executor], "", 0)
        .complete_task(pb::CompleteTaskRequest {
            rectification_deadline: Some(prost_types::Timestamp {
                seconds: shanghai_december(1, 10) / 1000,
                nanos: 0,
            }),
            ..decide(&task, pb::Decision::Complete, "done")
        })
        .await
        .expect_err("a deadline in the past, by the service's clock");
    assert_eq!(violated_fields(&past), ["rectification_deadline"]);
}
