use procedo_platform::identity::Role;
use procedo_platform::time;
use procedo_proto::intake as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{TestIntake, material, precondition, submission};

backend_tests!(
    submitting_without_required_materials_marks_the_application_incomplete,
    submitting_with_every_mandatory_material_awaits_review,
    supplementing_the_missing_materials_moves_it_to_review,
    an_accepted_application_cannot_be_reviewed_again,
    rejection_records_the_reason_and_correction_lists_the_items,
    a_corrected_application_returns_to_review,
    withdrawing_is_possible_until_a_decision,
    the_history_keeps_every_change_with_actor_and_reason,
    repeating_a_request_id_returns_the_first_result_and_files_once_and_another_request_is_refused,
    a_stale_etag_is_refused_and_changes_nothing,
    ledger_numbers_stay_distinct_and_consecutive_under_200_concurrent_submissions,
    submissions_arriving_together_fail_alone_and_repeats_file_once,
    two_replicas_submitting_at_once_keep_one_gap_free_ledger,
    submitting_an_unknown_type_names_the_type_code,
);

async fn submitting_without_required_materials_marks_the_application_incomplete(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type(
        "loan",
        &[
            ("ID card", true),
            ("Business licence", true),
            ("Photo", false),
        ],
    )
    .await;

    let filed = app
        .submit(submission("loan", "Wang Fang", &["id card"]))
        .await;

    assert_eq!(filed.status(), pb::ApplicationStatus::Incomplete);
    assert_eq!(filed.missing_materials, ["Business licence"]);
    let submitted = filed
        .submit_time
        .as_ref()
        .and_then(time::from_timestamp)
        .expect("submit time");
    let year = time::year_in(submitted, chrono_tz::UTC);
    assert!(
        filed.ledger_number.starts_with(&format!("SQ-{year}-")),
        "{}",
        filed.ledger_number
    );
    assert!(
        filed.ledger_number.ends_with("-000001"),
        "{}",
        filed.ledger_number
    );
}

async fn submitting_with_every_mandatory_material_awaits_review(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[("ID card", true), ("Photo", false)])
        .await;

    let filed = app
        .submit(submission("loan", "Wang Fang", &["ID card"]))
        .await;

    assert_eq!(filed.status(), pb::ApplicationStatus::PendingReview);
    assert!(filed.missing_materials.is_empty());
    let due = filed.due_time.expect("due").seconds - filed.submit_time.expect("submitted").seconds;
    assert_eq!(
        due,
        5 * 86_400,
        "due = submitted + the type's processing limit"
    );
}

async fn supplementing_the_missing_materials_moves_it_to_review(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[("ID card", true), ("Business licence", true)])
        .await;
    let filed = app
        .submit(submission("loan", "Wang Fang", &["ID card"]))
        .await;
    let mut clerk = app.client(Role::IntakeClerk);

    let supplemented = clerk
        .supplement_application(pb::SupplementApplicationRequest {
            name: filed.name.clone(),
            etag: filed.etag.clone(),
            materials: vec![material("Business Licence")],
            ..Default::default()
        })
        .await
        .expect("supplemented")
        .into_inner();

    assert_eq!(supplemented.status(), pb::ApplicationStatus::PendingReview);
    assert_eq!(supplemented.materials.len(), 2);
    assert_ne!(supplemented.etag, filed.etag);
}

async fn an_accepted_application_cannot_be_reviewed_again(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    let filed = app.submit(submission("loan", "Wang Fang", &[])).await;
    let mut clerk = app.client(Role::IntakeClerk);
    let accept = pb::ReviewApplicationRequest {
        name: filed.name.clone(),
        decision: pb::ReviewDecision::Accept as i32,
        ..Default::default()
    };

    let accepted = clerk
        .review_application(accept.clone())
        .await
        .expect("accepted")
        .into_inner();
    let again = clerk
        .review_application(accept)
        .await
        .expect_err("already decided");

    assert_eq!(accepted.status(), pb::ApplicationStatus::Accepted);
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert!(precondition(&again).contains("while ACCEPTED"), "{again:?}");
    assert!(precondition(&again).contains("PENDING_REVIEW"), "{again:?}");
    let supplement = clerk
        .supplement_application(pb::SupplementApplicationRequest {
            name: filed.name,
            materials: vec![material("extra")],
            ..Default::default()
        })
        .await
        .expect_err("decided applications take no supplements");
    assert_eq!(supplement.code(), Code::FailedPrecondition);
    assert!(
        supplement
            .message()
            .contains("INCOMPLETE, CORRECTION_REQUESTED"),
        "{supplement:?}"
    );
}

async fn rejection_records_the_reason_and_correction_lists_the_items(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    let first = app.submit(submission("loan", "Wang Fang", &[])).await;
    let second = app.submit(submission("loan", "Zhao Lei", &[])).await;
    let mut clerk = app.client(Role::IntakeClerk);

    let rejected = clerk
        .review_application(pb::ReviewApplicationRequest {
            name: first.name,
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
    let corrected = clerk
        .review_application(pb::ReviewApplicationRequest {
            name: second.name,
            decision: pb::ReviewDecision::RequestCorrection as i32,
            correction_items: vec!["amount is unclear".into(), "sign page 2".into()],
            ..Default::default()
        })
        .await
        .expect("correction requested")
        .into_inner();

    assert_eq!(rejected.status(), pb::ApplicationStatus::Rejected);
    let rejection = rejected.rejection.expect("a rejection");
    assert_eq!(rejection.reason(), pb::RejectionReason::OutOfScope);
    assert_eq!(rejection.explanation, "We do not offer consumer loans.");
    assert_eq!(
        corrected.status(),
        pb::ApplicationStatus::CorrectionRequested
    );
    assert_eq!(
        corrected.correction_items,
        ["amount is unclear", "sign page 2"]
    );
}

async fn a_corrected_application_returns_to_review(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    let filed = app.submit(submission("loan", "Wang Fang", &[])).await;
    let mut clerk = app.client(Role::IntakeClerk);
    clerk
        .review_application(pb::ReviewApplicationRequest {
            name: filed.name.clone(),
            decision: pb::ReviewDecision::RequestCorrection as i32,
            correction_items: vec!["state the term".into()],
            ..Default::default()
        })
        .await
        .expect("correction requested");

    let corrected = clerk
        .supplement_application(pb::SupplementApplicationRequest {
            name: filed.name,
            matter: Some(pb::Matter {
                title: "Working capital loan, 6 months".into(),
                description: "Term: six months.".into(),
            }),
            note: "term added".into(),
            ..Default::default()
        })
        .await
        .expect("corrected")
        .into_inner();

    assert_eq!(corrected.status(), pb::ApplicationStatus::PendingReview);
    assert!(corrected.correction_items.is_empty());
    assert_eq!(
        corrected.matter.expect("matter").title,
        "Working capital loan, 6 months"
    );
}

async fn withdrawing_is_possible_until_a_decision(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[("ID card", true)]).await;
    let incomplete = app.submit(submission("loan", "Wang Fang", &[])).await;
    let mut clerk = app.client(Role::IntakeClerk);

    let withdrawn = clerk
        .withdraw_application(pb::WithdrawApplicationRequest {
            name: incomplete.name.clone(),
            reason: "customer changed plans".into(),
            ..Default::default()
        })
        .await
        .expect("withdrawn")
        .into_inner();
    let again = clerk
        .withdraw_application(pb::WithdrawApplicationRequest {
            name: incomplete.name,
            ..Default::default()
        })
        .await
        .expect_err("already withdrawn");

    assert_eq!(withdrawn.status(), pb::ApplicationStatus::Withdrawn);
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert!(precondition(&again).contains("while WITHDRAWN"));
}

async fn the_history_keeps_every_change_with_actor_and_reason(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[("ID card", true)]).await;
    let filed = app.submit(submission("loan", "Wang Fang", &[])).await;
    let mut clerk = app.client(Role::IntakeClerk);
    clerk
        .supplement_application(pb::SupplementApplicationRequest {
            name: filed.name.clone(),
            materials: vec![material("ID card")],
            note: "brought in person".into(),
            ..Default::default()
        })
        .await
        .expect("supplemented");
    clerk
        .review_application(pb::ReviewApplicationRequest {
            name: filed.name.clone(),
            decision: pb::ReviewDecision::Accept as i32,
            comment: "all in order".into(),
            ..Default::default()
        })
        .await
        .expect("accepted");

    let name = filed.name;
    let history = app
        .client(Role::Auditor)
        .list_application_history(pb::ListApplicationHistoryRequest {
            name: name.clone(),
            page_size: 2,
            ..Default::default()
        })
        .await
        .expect("history")
        .into_inner();

    let steps: Vec<_> = history
        .entries
        .iter()
        .map(|e| (e.from_status(), e.to_status(), e.action.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (
                pb::ApplicationStatus::Unspecified,
                pb::ApplicationStatus::Incomplete,
                "submit"
            ),
            (
                pb::ApplicationStatus::Incomplete,
                pb::ApplicationStatus::PendingReview,
                "supplement"
            ),
        ]
    );
    assert_eq!(history.entries[1].reason, "brought in person");
    assert_eq!(
        history.entries[1].actor.as_ref().expect("actor").subject,
        "intake_clerk-user"
    );
    assert!(!history.next_page_token.is_empty());
    let rest = app
        .client(Role::Auditor)
        .list_application_history(pb::ListApplicationHistoryRequest {
            name: name.clone(),
            page_size: 2,
            page_token: history.next_page_token.clone(),
        })
        .await
        .expect("second page")
        .into_inner();
    assert_eq!(rest.entries.len(), 1);
    assert_eq!(rest.entries[0].to_status(), pb::ApplicationStatus::Accepted);
    assert_eq!(rest.entries[0].reason, "all in order");
    assert!(rest.next_page_token.is_empty());
}

async fn repeating_a_request_id_returns_the_first_result_and_files_once_and_another_request_is_refused(
    backend: Backend,
) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    let mut request = submission("loan", "Wang Fang", &[]);
    request.request_id = "crm-7f3a".into();

    let first = app.submit(request.clone()).await;
    let second = app.submit(request.clone()).await;
    let next = app.submit(submission("loan", "Zhao Lei", &[])).await;
    let other_caller = app
        .client_with(Some(app.tokens.token_for("crm-b", "ops", &[Role::Service])))
        .submit_application(request)
        .await
        .expect("another caller's own request")
        .into_inner();

    assert_eq!(first, second);

    // The same id with another request is refused, and files nothing.
    let mut changed = submission("loan", "Wang Fang", &[]);
    changed.request_id = "crm-7f3a".into();
    changed.matter = Some(pb::Matter {
        title: "Another loan".into(),
        description: String::new(),
    });
    let refused = app
        .client(Role::IntakeClerk)
        .submit_application(changed)
        .await
        .expect_err("a different request under a used id");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(crate::helpers::violated_fields(&refused), ["request_id"]);
    assert!(
        refused
            .message()
            .contains("different SubmitApplication request"),
        "{}",
        refused.message()
    );
    let inquiry = |subject: &str| {
        let mut request = crate::helpers::inquiry(pb::Channel::Phone);
        request.request_id = "crm-inquiry-1".into();
        request.subject = subject.into();
        request
    };
    let mut clerk = app.client(Role::IntakeClerk);
    let asked = clerk
        .create_inquiry(inquiry("Opening hours"))
        .await
        .expect("an inquiry")
        .into_inner();
    let again = clerk
        .create_inquiry(inquiry("Opening hours"))
        .await
        .expect("the same inquiry again")
        .into_inner();
    assert_eq!(asked, again);
    let refused = clerk
        .create_inquiry(inquiry("Fees"))
        .await
        .expect_err("another inquiry under a used id");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(crate::helpers::violated_fields(&refused), ["request_id"]);

    assert!(
        other_caller.ledger_number.ends_with("-000003"),
        "request ids are per caller: {}",
        other_caller.ledger_number
    );
    assert!(
        next.ledger_number.ends_with("-000002"),
        "{}",
        next.ledger_number
    );
}

async fn a_stale_etag_is_refused_and_changes_nothing(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[("ID card", true)]).await;
    let filed = app.submit(submission("loan", "Wang Fang", &[])).await;
    let mut clerk = app.client(Role::IntakeClerk);
    clerk
        .supplement_application(pb::SupplementApplicationRequest {
            name: filed.name.clone(),
            etag: filed.etag.clone(),
            materials: vec![material("ID card")],
            ..Default::default()
        })
        .await
        .expect("supplemented");

    let stale = clerk
        .withdraw_application(pb::WithdrawApplicationRequest {
            name: filed.name.clone(),
            etag: filed.etag.clone(),
            ..Default::default()
        })
        .await
        .expect_err("stale etag");

    assert_eq!(stale.code(), Code::Aborted);
    let now = clerk
        .get_application(pb::GetApplicationRequest { name: filed.name })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(now.status(), pb::ApplicationStatus::PendingReview);
}

async fn ledger_numbers_stay_distinct_and_consecutive_under_200_concurrent_submissions(
    backend: Backend,
) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    let clerk = app.client(Role::IntakeClerk);

    let submissions = (0..200).map(|i| {
        let mut clerk = clerk.clone();
        tokio::spawn(async move {
            clerk
                .submit_application(submission("loan", &format!("Applicant {i}"), &[]))
                .await
                .map(|r| r.into_inner().ledger_number)
        })
    });
    let mut numbers = Vec::new();
    for handle in submissions.collect::<Vec<_>>() {
        numbers.push(handle.await.expect("task").expect("submitted"));
    }

    assert_eq!(sequence_numbers(&numbers), (1..=200).collect::<Vec<u32>>());
}

/// The sequence numbers of ledger numbers `SQ-YYYY-NNNNNN`, sorted.
fn sequence_numbers<'a>(numbers: impl IntoIterator<Item = &'a String>) -> Vec<u32> {
    let mut seqs: Vec<u32> = numbers
        .into_iter()
        .map(|n| {
            n.rsplit('-')
                .next()
                .and_then(|s| s.parse().ok())
                .expect("SQ-YYYY-NNNNNN")
        })
        .collect();
    seqs.sort_unstable();
    seqs
}

async fn submissions_arriving_together_fail_alone_and_repeats_file_once(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    let clerk = app.client(Role::IntakeClerk);

    // 120 at once: every tenth of an unknown type; every seventh sent twice
    // under one request id.
    let calls = (0..120).flat_map(|i| {
        let mut request = submission(
            if i % 10 == 9 { "no-such-type" } else { "loan" },
            &format!("Applicant {i}"),
            &[],
        );
        let twice = i % 7 == 0;
        if twice {
            request.request_id = format!("repeat-{i}");
        }
        let copies = if twice { 2 } else { 1 };
        (0..copies).map(move |_| (i, request.clone()))
    });
    let handles: Vec<_> = calls
        .map(|(i, request)| {
            let mut clerk = clerk.clone();
            tokio::spawn(async move { (i, clerk.submit_application(request).await) })
        })
        .collect();
    let mut filed = std::collections::BTreeMap::<i32, Vec<pb::Application>>::new();
    for handle in handles {
        let (i, result) = handle.await.expect("task");
        match result {
            Ok(application) => filed.entry(i).or_default().push(application.into_inner()),
            Err(refused) => {
                assert_eq!(i % 10, 9, "only unknown types are refused: {refused:?}");
                assert_eq!(refused.code(), Code::InvalidArgument);
                assert_eq!(crate::helpers::violated_fields(&refused), ["type_code"]);
            }
        }
    }

    let valid = (0..120).filter(|i| i % 10 != 9).count();
    assert_eq!(filed.len(), valid, "every valid submission was filed");
    for (i, copies) in &filed {
        let names: std::collections::BTreeSet<_> = copies.iter().map(|a| &a.name).collect();
        assert_eq!(
            names.len(),
            1,
            "submission {i}: one application per request id"
        );
    }
    let numbers = filed.values().map(|copies| &copies[0].ledger_number);
    let expected: Vec<u32> = (1..=u32::try_from(valid).expect("small")).collect();
    assert_eq!(sequence_numbers(numbers), expected, "numbered without gaps");
    let stored: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM applications")
        .fetch_one(app.db.reader())
        .await
        .expect("counted");
    assert_eq!(stored, i64::try_from(valid).expect("small"));
}

async fn two_replicas_submitting_at_once_keep_one_gap_free_ledger(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    let mut other =
        procedo_testkit::TestService::spawn::<procedo_intake::Intake>(&app.database, |_| {}).await;
    let token = app.tokens.token(Role::IntakeClerk);
    let clerks = [
        app.client(Role::IntakeClerk),
        procedo_proto::intake::intake_service_client::IntakeServiceClient::with_interceptor(
            other.channel.clone(),
            procedo_testkit::Bearer(Some(token)),
        ),
    ];

    let handles: Vec<_> = (0..160)
        .map(|i| {
            let mut clerk = clerks[i % 2].clone();
            tokio::spawn(async move {
                clerk
                    .submit_application(submission("loan", &format!("Applicant {i}"), &[]))
                    .await
                    .map(|r| r.into_inner().ledger_number)
            })
        })
        .collect();
    let mut numbers = Vec::new();
    for handle in handles {
        numbers.push(handle.await.expect("task").expect("submitted"));
    }
    other.stop().await;

    assert_eq!(sequence_numbers(&numbers), (1..=160).collect::<Vec<u32>>());
}

async fn submitting_an_unknown_type_names_the_type_code(backend: Backend) {
    let app = TestIntake::spawn(backend).await;

    let err = app
        .client(Role::IntakeClerk)
        .submit_application(submission("no-such-type", "Wang Fang", &[]))
        .await
        .expect_err("unknown type");

    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(crate::helpers::violated_fields(&err), ["type_code"]);
}
