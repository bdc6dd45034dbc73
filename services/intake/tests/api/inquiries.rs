use std::time::Duration;

use procedo_intake::domain::inquiry::ResponseLimits;
use procedo_platform::identity::Role;
use procedo_proto::intake as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{TestIntake, calendar_file, inquiry, precondition, today};

backend_tests!(
    a_new_inquiry_is_due_within_its_channels_time_limit,
    working_time_limits_skip_the_companys_holidays_and_hours_off,
    an_inquiry_is_answered_passed_on_resolved_and_closed_with_satisfaction,
    an_unanswered_inquiry_past_its_deadline_is_listed_as_overdue,
    closing_an_unresolved_inquiry_names_the_state_that_allows_it,
    inquiries_are_listed_newest_first_by_page_and_filter,
);

async fn a_new_inquiry_is_due_within_its_channels_time_limit(backend: Backend) {
    let app = TestIntake::spawn_with(backend, |c| {
        c.service.response_limits =
            ResponseLimits::parse("phone=2h,email=1d,online=8h,walk_in=30m").expect("limits");
    })
    .await;
    let mut clerk = app.client(Role::IntakeClerk);

    let phone = clerk
        .create_inquiry(inquiry(pb::Channel::Phone))
        .await
        .expect("created")
        .into_inner();
    let email = clerk
        .create_inquiry(inquiry(pb::Channel::Email))
        .await
        .expect("created")
        .into_inner();

    let allowed = |i: &pb::Inquiry| {
        i.response_due_time.expect("due").seconds - i.create_time.expect("created").seconds
    };
    assert_eq!(allowed(&phone), 2 * 3600);
    assert_eq!(allowed(&email), 86_400);
    assert_eq!(phone.status(), pb::InquiryStatus::Open);
    assert!(!phone.overdue);
    assert_eq!(phone.entries.len(), 1);
}

async fn working_time_limits_skip_the_companys_holidays_and_hours_off(backend: Backend) {
    // Working hours 10:00–11:00 UTC every day, and a holiday from yesterday
    // to the day after tomorrow: whenever the test runs, the first working
    // hour is three days from today.
    let today = today();
    let day = |offset: i64| today + chrono::Duration::days(offset);
    let hours = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .map(|d| format!("  {d}: [\"10:00-11:00\"]\n"))
    .concat();
    let file = calendar_file(&format!(
        "time_zone: UTC\nhours:\n{hours}holidays:\n  - {{ date: {}, to: {}, name: Test days off }}\n",
        day(-1),
        day(2)
    ));
    let path = file.path().to_path_buf();
    let app = TestIntake::spawn_with(backend, move |c| {
        c.company.calendar_file = Some(path);
        c.service.response_limits =
            ResponseLimits::parse("phone=30wm,email=2wd,online=8h,walk_in=30m").expect("limits");
    })
    .await;
    let mut clerk = app.client(Role::IntakeClerk);

    let due = |i: pb::Inquiry| {
        let due = i.response_due_time.expect("due");
        chrono::DateTime::from_timestamp(due.seconds, 0).expect("a time")
    };
    let phone = clerk
        .create_inquiry(inquiry(pb::Channel::Phone))
        .await
        .expect("created")
        .into_inner();
    assert_eq!(
        due(phone),
        day(3).and_hms_opt(10, 30, 0).expect("a time").and_utc()
    );
    let email = clerk
        .create_inquiry(inquiry(pb::Channel::Email))
        .await
        .expect("created")
        .into_inner();
    // Two working days from a moment off: counted from the first working
    // moment (day 3, 10:00), at the same working time two days on.
    assert_eq!(
        due(email),
        day(5).and_hms_opt(10, 0, 0).expect("a time").and_utc()
    );
}

async fn an_inquiry_is_answered_passed_on_resolved_and_closed_with_satisfaction(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    let mut clerk = app.client(Role::IntakeClerk);
    let mut head = app.client(Role::DepartmentHead);
    let created = clerk
        .create_inquiry(inquiry(pb::Channel::Online))
        .await
        .expect("created")
        .into_inner();

    let responded = clerk
        .respond_to_inquiry(pb::RespondToInquiryRequest {
            name: created.name.clone(),
            etag: created.etag.clone(),
            answer: "Weekdays 9:00-17:00.".into(),
            customer_need: "wants to file a loan application".into(),
            ..Default::default()
        })
        .await
        .expect("responded")
        .into_inner();
    let escalated = clerk
        .escalate_inquiry(pb::EscalateInquiryRequest {
            name: created.name.clone(),
            etag: responded.etag.clone(),
            department: "credit".into(),
            specialist: "zhang.san".into(),
            reason: "asks about collateral rules".into(),
            ..Default::default()
        })
        .await
        .expect("escalated")
        .into_inner();
    head.add_inquiry_note(pb::AddInquiryNoteRequest {
        name: created.name.clone(),
        note: "called the customer back".into(),
        ..Default::default()
    })
    .await
    .expect("noted");
    head.resolve_inquiry(pb::ResolveInquiryRequest {
        name: created.name.clone(),
        resolution: "explained the collateral rules".into(),
        ..Default::default()
    })
    .await
    .expect("resolved");
    let closed = clerk
        .close_inquiry(pb::CloseInquiryRequest {
            name: created.name.clone(),
            satisfaction: 4,
            ..Default::default()
        })
        .await
        .expect("closed")
        .into_inner();

    assert_eq!(responded.status(), pb::InquiryStatus::Responded);
    assert!(responded.first_response_time.is_some());
    assert_eq!(escalated.status(), pb::InquiryStatus::Escalated);
    assert_eq!(escalated.department, "credit");
    assert_eq!(escalated.specialist, "zhang.san");
    assert_eq!(closed.status(), pb::InquiryStatus::Closed);
    assert_eq!(closed.satisfaction, 4);
    let read = clerk
        .get_inquiry(pb::GetInquiryRequest { name: created.name })
        .await
        .expect("read")
        .into_inner();
    let kinds: Vec<_> = read.entries.iter().map(pb::InquiryEntry::kind).collect();
    use pb::InquiryEntryKind as K;
    assert_eq!(
        kinds,
        [
            K::Created,
            K::Response,
            K::Escalation,
            K::Note,
            K::Resolution,
            K::Closure
        ]
    );
    assert_eq!(
        read.entries[1].customer_need,
        "wants to file a loan application"
    );
    assert_eq!(
        read.entries[3].actor.as_ref().expect("actor").subject,
        "department_head-user"
    );
}

async fn an_unanswered_inquiry_past_its_deadline_is_listed_as_overdue(backend: Backend) {
    let app = TestIntake::spawn_with(backend, |c| {
        c.service.response_limits =
            ResponseLimits::parse("phone=1ms,email=1d,online=1d,walk_in=1d").expect("limits");
    })
    .await;
    let mut clerk = app.client(Role::IntakeClerk);
    let late = clerk
        .create_inquiry(inquiry(pb::Channel::Phone))
        .await
        .expect("created")
        .into_inner();
    let answered = clerk
        .create_inquiry(inquiry(pb::Channel::Phone))
        .await
        .expect("created")
        .into_inner();
    clerk
        .create_inquiry(inquiry(pb::Channel::Email))
        .await
        .expect("created");
    clerk
        .respond_to_inquiry(pb::RespondToInquiryRequest {
            name: answered.name.clone(),
            answer: "done".into(),
            ..Default::default()
        })
        .await
        .expect("responded");
    // Wait (bounded) for the one-millisecond limit to pass on the server's
    // clock rather than guessing how long that takes.
    let mut overdue = pb::ListInquiriesResponse::default();
    for _ in 0..200 {
        overdue = clerk
            .list_inquiries(pb::ListInquiriesRequest {
                overdue_only: true,
                ..Default::default()
            })
            .await
            .expect("listed")
            .into_inner();
        if !overdue.inquiries.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let names: Vec<_> = overdue.inquiries.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, [late.name.as_str()]);
    assert!(overdue.inquiries[0].overdue);
}

async fn closing_an_unresolved_inquiry_names_the_state_that_allows_it(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    let mut clerk = app.client(Role::IntakeClerk);
    let created = clerk
        .create_inquiry(inquiry(pb::Channel::Phone))
        .await
        .expect("created")
        .into_inner();

    let err = clerk
        .close_inquiry(pb::CloseInquiryRequest {
            name: created.name,
            satisfaction: 5,
            ..Default::default()
        })
        .await
        .expect_err("open inquiries do not close");

    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(
        precondition(&err),
        "cannot close while OPEN; allowed only in: RESOLVED"
    );
}

async fn inquiries_are_listed_newest_first_by_page_and_filter(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    let mut clerk = app.client(Role::IntakeClerk);
    let mut created = Vec::new();
    for channel in [
        pb::Channel::Phone,
        pb::Channel::Email,
        pb::Channel::Phone,
        pb::Channel::WalkIn,
        pb::Channel::Phone,
    ] {
        created.push(
            clerk
                .create_inquiry(inquiry(channel))
                .await
                .expect("created")
                .into_inner()
                .name,
        );
    }

    let first = clerk
        .list_inquiries(pb::ListInquiriesRequest {
            page_size: 2,
            channel: pb::Channel::Phone as i32,
            ..Default::default()
        })
        .await
        .expect("page 1")
        .into_inner();
    let second = clerk
        .list_inquiries(pb::ListInquiriesRequest {
            page_size: 2,
            channel: pb::Channel::Phone as i32,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        })
        .await
        .expect("page 2")
        .into_inner();
    let resolved = clerk
        .list_inquiries(pb::ListInquiriesRequest {
            status: pb::InquiryStatus::Resolved as i32,
            ..Default::default()
        })
        .await
        .expect("filtered")
        .into_inner();

    let names = |r: &pb::ListInquiriesResponse| {
        r.inquiries
            .iter()
            .map(|i| i.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&first), [created[4].clone(), created[2].clone()]);
    assert_eq!(names(&second), [created[0].clone()]);
    assert!(second.next_page_token.is_empty());
    assert!(resolved.inquiries.is_empty());
}
