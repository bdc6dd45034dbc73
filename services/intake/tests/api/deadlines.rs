//! The processing clock of applications (§2.2) on the company's calendar.

use chrono::{Datelike as _, NaiveDate};
use procedo_platform::identity::Role;
use procedo_proto::common;
use procedo_proto::intake as pb;
use procedo_testkit::{Backend, backend_tests};

use crate::helpers::{
    TestIntake, application_type, calendar_file, material, ms, submission, today, violated_fields,
};

backend_tests!(
    five_working_days_cross_a_holiday_and_count_the_make_up_saturday_to_the_minute,
    an_incomplete_applications_clock_pauses_until_the_supplement,
    a_decided_application_stops_its_clock,
    a_bad_processing_limit_names_its_field,
);

/// A type whose processing limit is `limit`.
async fn create_type(app: &TestIntake, limit: common::time_limit::Kind) -> pb::ApplicationType {
    let mut t = application_type("loan", &[("ID card", true)]);
    t.processing_time_limit = None;
    t.processing_limit = Some(common::TimeLimit { kind: Some(limit) });
    app.client(Role::Admin)
        .create_application_type(pb::CreateApplicationTypeRequest {
            request_id: String::new(),
            application_type: Some(t),
        })
        .await
        .expect("the type is created")
        .into_inner()
}

fn utc(date: NaiveDate, hour: u32) -> i64 {
    date.and_hms_opt(hour, 0, 0)
        .expect("a time")
        .and_utc()
        .timestamp_millis()
}

async fn five_working_days_cross_a_holiday_and_count_the_make_up_saturday_to_the_minute(
    backend: Backend,
) {
    // A holiday from yesterday to the Wednesday of next week at the
    // earliest, with its Saturday worked on Friday's hours: whenever the
    // test runs, the clock starts on that Thursday at 09:00, and the five
    // working days after it are Fri, Sat (make-up), Mon, Tue, Wed.
    let today = today();
    let monday = (3..10)
        .map(|d| today + chrono::Duration::days(d))
        .find(|d| d.weekday() == chrono::Weekday::Mon)
        .expect("a Monday within a week");
    let day = |offset: i64| monday + chrono::Duration::days(offset);
    let file = calendar_file(&format!(
        "time_zone: UTC\n\
         hours:\n  monday: [\"09:00-12:00\", \"13:00-17:00\"]\n  tuesday: [\"09:00-12:00\", \"13:00-17:00\"]\n  \
         wednesday: [\"09:00-12:00\", \"13:00-17:00\"]\n  thursday: [\"09:00-12:00\", \"13:00-17:00\"]\n  \
         friday: [\"09:00-15:00\"]\n\
         holidays:\n  - {{ date: {}, to: {}, name: National holiday }}\n\
         workdays:\n  - {{ date: {}, hours_of: friday, name: National holiday make-up }}\n",
        today - chrono::Duration::days(1),
        day(2),
        day(5),
    ));
    let path = file.path().to_path_buf();
    let app = TestIntake::spawn_with(backend, move |c| c.company.calendar_file = Some(path)).await;
    let loan = create_type(&app, common::time_limit::Kind::WorkingDays(5)).await;
    assert_eq!(
        loan.processing_limit,
        Some(common::TimeLimit {
            kind: Some(common::time_limit::Kind::WorkingDays(5))
        })
    );
    assert_eq!(loan.processing_time_limit, None, "not an elapsed limit");

    let filed = app
        .submit(submission("loan", "Wang Fang", &["ID card"]))
        .await;

    let clock = filed.processing.clone().expect("a processing clock");
    assert_eq!(clock.state(), common::DeadlineState::Running);
    assert_eq!(ms(clock.due_time), utc(day(9), 9), "Wednesday after, 09:00");
    assert_eq!(ms(filed.due_time), ms(clock.due_time));
    assert!(!clock.overdue);
}

async fn an_incomplete_applications_clock_pauses_until_the_supplement(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    let day = 86_400_000;
    create_type(
        &app,
        common::time_limit::Kind::Elapsed(prost_types::Duration {
            seconds: 86_400,
            nanos: 0,
        }),
    )
    .await;
    let filed = app.submit(submission("loan", "Wang Fang", &[])).await;
    assert_eq!(filed.status(), pb::ApplicationStatus::Incomplete);
    let clock = filed.processing.clone().expect("a clock");
    assert_eq!(clock.state(), common::DeadlineState::Paused);
    assert_eq!(clock.pauses.len(), 1);
    assert_eq!(
        clock.pauses[0].reason,
        "waiting for the applicant's missing materials"
    );
    assert_eq!(clock.pauses[0].end_time, None);
    assert!(!clock.overdue);

    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let supplemented = app
        .client(Role::IntakeClerk)
        .supplement_application(pb::SupplementApplicationRequest {
            name: filed.name.clone(),
            etag: filed.etag.clone(),
            materials: vec![material("ID card")],
            ..Default::default()
        })
        .await
        .expect("supplemented")
        .into_inner();

    let clock = supplemented.processing.expect("a clock");
    assert_eq!(clock.state(), common::DeadlineState::Running);
    let pause = &clock.pauses[0];
    let paused = ms(pause.end_time) - ms(pause.start_time);
    assert!(paused >= 50, "the pause lasted until the supplement");
    assert_eq!(
        ms(clock.due_time),
        ms(clock.start_time) + day + paused,
        "the due time moves on by the time paused"
    );
    let read = app
        .client(Role::IntakeClerk)
        .get_application(pb::GetApplicationRequest {
            name: filed.name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(read.processing, Some(clock), "the clock is stored");
}

async fn a_decided_application_stops_its_clock(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    create_type(&app, common::time_limit::Kind::WorkingDays(3)).await;
    let filed = app
        .submit(submission("loan", "Wang Fang", &["ID card"]))
        .await;
    let rejected = app
        .client(Role::IntakeClerk)
        .review_application(pb::ReviewApplicationRequest {
            name: filed.name.clone(),
            etag: filed.etag.clone(),
            decision: pb::ReviewDecision::Reject as i32,
            rejection: Some(pb::Rejection {
                reason: pb::RejectionReason::OutOfScope as i32,
                explanation: "We do not offer consumer loans.".into(),
            }),
            ..Default::default()
        })
        .await
        .expect("rejected")
        .into_inner();
    let clock = rejected.processing.expect("a clock");
    assert_eq!(clock.state(), common::DeadlineState::Met);
    assert_eq!(ms(clock.met_time), ms(rejected.update_time));
    assert!(!clock.overdue, "met in time");
}

async fn a_bad_processing_limit_names_its_field(backend: Backend) {
    use common::time_limit::Kind;
    let app = TestIntake::spawn(backend).await;
    let minute_and_a_half = prost_types::Duration {
        seconds: 90,
        nanos: 0,
    };
    for (kind, field) in [
        (
            Some(Kind::WorkingDays(0)),
            "application_type.processing_limit.working_days",
        ),
        (
            Some(Kind::WorkingTime(minute_and_a_half)),
            "application_type.processing_limit.working_time",
        ),
        (None, "application_type.processing_limit"),
    ] {
        let mut t = application_type("loan", &[]);
        t.processing_time_limit = None;
        t.processing_limit = Some(common::TimeLimit { kind });
        let err = app
            .client(Role::Admin)
            .create_application_type(pb::CreateApplicationTypeRequest {
                request_id: String::new(),
                application_type: Some(t),
            })
            .await
            .expect_err("a bad limit");
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert_eq!(violated_fields(&err), [field]);
    }
}
