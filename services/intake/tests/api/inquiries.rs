use std::time::Duration;

use procedo_intake::domain::inquiry::ResponseLimits;
use procedo_platform::identity::Role;
use procedo_proto::common;
use procedo_proto::intake as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{TestIntake, calendar_file, inquiry, ms, precondition, today};

backend_tests!(
    a_new_inquiry_is_due_within_its_channels_time_limit,
    working_time_limits_skip_the_companys_holidays_and_hours_off,
    an_inquiry_is_answered_passed_on_resolved_and_closed_with_satisfaction,
    an_unanswered_inquiry_past_its_deadline_is_listed_as_overdue,
    an_inquiry_paused_for_the_customer_does_not_turn_overdue,
    closing_an_unresolved_inquiry_names_the_state_that_allows_it,
    inquiries_are_listed_newest_first_by_page_and_filter,
    a_long_inquiry_carries_its_latest_entries_and_pages_through_all,
);

async fn a_long_inquiry_carries_its_latest_entries_and_pages_through_all(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    let mut clerk = app.client(Role::IntakeClerk);
    let created = clerk
        .create_inquiry(inquiry(pb::Channel::Phone))
        .await
        .expect("created")
        .into_inner();
    let mut last = created.clone();
    for n in 1..=120 {
        last = clerk
            .add_inquiry_note(pb::AddInquiryNoteRequest {
                name: created.name.clone(),
                note: format!("note {n}"),
                ..Default::default()
            })
            .await
            .expect("noted")
            .into_inner();
    }
    assert_eq!(last.entry_count, 121);
    assert_eq!(last.entries.len(), 100);
    assert_eq!(last.entries[0].text, "note 21", "the oldest shown");
    assert_eq!(last.entries[99].text, "note 120");
    let read = clerk
        .get_inquiry(pb::GetInquiryRequest {
            name: created.name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(read.entries, last.entries);

    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let page = clerk
            .list_inquiry_entries(pb::ListInquiryEntriesRequest {
                name: created.name.clone(),
                page_size: 50,
                page_token: token,
            })
            .await
            .expect("listed")
            .into_inner();
        all.extend(page.entries);
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(all.len(), 121);
    assert_eq!(all[0].kind(), pb::InquiryEntryKind::Created);
    assert_eq!(&all[21..], &read.entries[..]);
}

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

async fn an_inquiry_paused_for_the_customer_does_not_turn_overdue(backend: Backend) {
    let app = TestIntake::spawn_with(backend, |c| {
        c.service.response_limits =
            ResponseLimits::parse("phone=200ms,email=1d,online=1d,walk_in=1d").expect("limits");
    })
    .await;
    let mut clerk = app.client(Role::IntakeClerk);
    let waiting = clerk
        .create_inquiry(inquiry(pb::Channel::Phone))
        .await
        .expect("created")
        .into_inner();
    let forgotten = clerk
        .create_inquiry(inquiry(pb::Channel::Phone))
        .await
        .expect("created")
        .into_inner();
    let no_reason = clerk
        .pause_inquiry(pb::PauseInquiryRequest {
            name: waiting.name.clone(),
            ..Default::default()
        })
        .await
        .expect_err("a reason is required");
    assert_eq!(crate::helpers::violated_fields(&no_reason), ["reason"]);
    let paused = clerk
        .pause_inquiry(pb::PauseInquiryRequest {
            name: waiting.name.clone(),
            etag: waiting.etag.clone(),
            reason: "waiting for the customer's contract number".into(),
            ..Default::default()
        })
        .await
        .expect("paused")
        .into_inner();
    let clock = paused.response.clone().expect("a clock");
    assert_eq!(clock.state(), common::DeadlineState::Paused);
    let entry = paused.entries.last().expect("an entry");
    assert_eq!(entry.kind(), pb::InquiryEntryKind::Pause);
    assert_eq!(entry.text, "waiting for the customer's contract number");

    // Wait (bounded) until the other one is overdue on the server's clock.
    let list = |overdue_only, paused_only| pb::ListInquiriesRequest {
        overdue_only,
        paused_only,
        ..Default::default()
    };
    let mut overdue = pb::ListInquiriesResponse::default();
    for _ in 0..200 {
        overdue = clerk
            .list_inquiries(list(true, false))
            .await
            .expect("listed")
            .into_inner();
        if !overdue.inquiries.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let names = |r: &pb::ListInquiriesResponse| {
        r.inquiries
            .iter()
            .map(|i| i.name.clone())
            .collect::<Vec<String>>()
    };
    assert_eq!(names(&overdue), [forgotten.name.as_str()]);
    let still_paused = clerk
        .list_inquiries(list(false, true))
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(names(&still_paused), [waiting.name.as_str()]);
    assert!(!still_paused.inquiries[0].overdue);

    let resumed = clerk
        .resume_inquiry(pb::ResumeInquiryRequest {
            name: waiting.name.clone(),
            etag: paused.etag.clone(),
            note: "the customer called back".into(),
            ..Default::default()
        })
        .await
        .expect("resumed")
        .into_inner();
    let clock = resumed.response.expect("a clock");
    assert_eq!(clock.state(), common::DeadlineState::Running);
    let pause = &clock.pauses[0];
    let paused_ms = ms(pause.end_time) - ms(pause.start_time);
    assert!(paused_ms > 0);
    assert_eq!(
        ms(clock.due_time),
        ms(clock.start_time) + 200 + paused_ms,
        "the due time moves on by the time paused"
    );
    assert_eq!(ms(resumed.response_due_time), ms(clock.due_time));
    assert_eq!(
        resumed.entries.last().map(|e| e.kind()),
        Some(pb::InquiryEntryKind::Resume)
    );

    clerk
        .respond_to_inquiry(pb::RespondToInquiryRequest {
            name: forgotten.name.clone(),
            answer: "late, but here".into(),
            ..Default::default()
        })
        .await
        .expect("responded");
    let err = clerk
        .pause_inquiry(pb::PauseInquiryRequest {
            name: forgotten.name.clone(),
            reason: "too late".into(),
            ..Default::default()
        })
        .await
        .expect_err("the clock has stopped");
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(precondition(&err).contains("while MET"), "{err:?}");
    assert!(precondition(&err).contains("RUNNING"), "{err:?}");
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
            .collect::<Vec<String>>()
    };
    assert_eq!(names(&first), [created[4].clone(), created[2].clone()]);
    assert_eq!(names(&second), [created[0].clone()]);
    assert!(second.next_page_token.is_empty());
    assert!(resolved.inquiries.is_empty());

    // The token is opaque and bound to the call that returned it: other
    // filters, another RPC, an altered or a made-up token are refused.
    let token = first.next_page_token.clone();
    assert!(
        !token.contains(&created[2]["inquiries/".len()..]),
        "the cursor does not show: {token}"
    );
    let misuses = [
        pb::ListInquiriesRequest {
            page_size: 2,
            channel: pb::Channel::Email as i32,
            page_token: token.clone(),
            ..Default::default()
        },
        pb::ListInquiriesRequest {
            page_size: 2,
            channel: pb::Channel::Phone as i32,
            page_token: format!("{}A", &token[..token.len() - 1]),
            ..Default::default()
        },
        pb::ListInquiriesRequest {
            channel: pb::Channel::Phone as i32,
            page_token: created[2].bytes().map(|b| format!("{b:02x}")).collect(),
            ..Default::default()
        },
    ];
    for misuse in misuses {
        let refused = clerk
            .list_inquiries(misuse.clone())
            .await
            .expect_err("a token that is not this call's");
        assert_eq!(refused.code(), Code::InvalidArgument, "{misuse:?}");
        assert_eq!(crate::helpers::violated_fields(&refused), ["page_token"]);
    }
    let refused = app
        .client(Role::Admin)
        .list_application_types(pb::ListApplicationTypesRequest {
            page_size: 2,
            page_token: token.clone(),
        })
        .await
        .expect_err("another RPC's token");
    assert_eq!(crate::helpers::violated_fields(&refused), ["page_token"]);
    // The page size may change between pages.
    let rest = clerk
        .list_inquiries(pb::ListInquiriesRequest {
            page_size: 50,
            channel: pb::Channel::Phone as i32,
            page_token: token,
            ..Default::default()
        })
        .await
        .expect("the rest")
        .into_inner();
    assert_eq!(names(&rest), [created[0].clone()]);
}
