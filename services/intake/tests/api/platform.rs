//! What intake gets from the platform: health, reflection, the event sink.

use procedo_platform::identity::Role;
use procedo_proto::common;
use procedo_proto::common::event_sink_service_client::EventSinkServiceClient;
use procedo_testkit::{Backend, Bearer, backend_tests};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;

use crate::helpers::{TestIntake, submission};

backend_tests!(
    health_reports_intake_serving_without_a_token,
    reflection_v1alpha_lists_the_intake_service,
    health_watch_on_an_unknown_service_answers_service_unknown_and_stays_open,
    a_redelivered_event_is_recognised_as_a_duplicate,
    a_call_that_outlives_the_request_timeout_gets_deadline_exceeded_and_stores_nothing,
    every_mutation_queues_an_audit_record_with_actor_and_action,
    calls_still_running_after_the_shutdown_grace_are_cancelled_and_store_nothing,
    a_call_with_oversized_headers_is_refused_alone_and_its_connection_kept,
    health_says_not_serving_as_soon_as_draining_starts,
    verification_keys_are_reread_when_their_file_changes,
);

async fn health_reports_intake_serving_without_a_token(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    let mut health = HealthClient::new(app.server.channel.clone());

    // Every service the port serves has its entry, the event sink included.
    for service in [
        "",
        "procedo.intake.v1.IntakeService",
        "procedo.common.v1.EventSinkService",
        "procedo.calendar.v1.CalendarService",
    ] {
        let status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("health answers for {service:?}: {e:?}"))
            .into_inner();
        assert_eq!(status.status(), ServingStatus::Serving, "{service:?}");
    }
    let unknown = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "procedo.workflow.v1.WorkflowService".into(),
        })
        .await
        .expect_err("not served here");
    assert_eq!(unknown.code(), tonic::Code::NotFound);
}

/// The health protocol: a watched service the server does not know is
/// SERVICE_UNKNOWN, and the call is not ended.
async fn health_watch_on_an_unknown_service_answers_service_unknown_and_stays_open(
    backend: Backend,
) {
    let app = TestIntake::spawn(backend).await;
    let mut watch = HealthClient::new(app.server.channel.clone())
        .watch(tonic_health::pb::HealthCheckRequest {
            service: "procedo.workflow.v1.WorkflowService".into(),
        })
        .await
        .expect("watching")
        .into_inner();
    let first = watch.message().await.expect("a status").expect("one");
    assert_eq!(first.status(), ServingStatus::ServiceUnknown);
    let more = tokio::time::timeout(std::time::Duration::from_millis(200), watch.message()).await;
    assert!(more.is_err(), "the stream stays open: {more:?}");
}

async fn reflection_v1alpha_lists_the_intake_service(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    let mut reflection = ServerReflectionClient::new(app.server.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };

    let mut answers = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("reflection answers")
        .into_inner();
    let answer = answers
        .message()
        .await
        .expect("a message")
        .expect("one answer");

    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("not a service list: {answer:?}");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"procedo.intake.v1.IntakeService".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
    // Only what this port answers: workflow's service is another port's.
    assert!(
        !names.iter().any(|n| n.starts_with("procedo.workflow")),
        "{names:?}"
    );
}

async fn a_redelivered_event_is_recognised_as_a_duplicate(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    let token = app.tokens.token(Role::Service);
    let mut sink =
        EventSinkServiceClient::with_interceptor(app.server.channel.clone(), Bearer(Some(token)));
    let event = common::Event {
        id: uuid::Uuid::now_v7().to_string(),
        source: "procedo.workflow".into(),
        r#type: "procedo.workflow.v1.instance.completed".into(),
        subject: "instances/1".into(),
        data: Some(prost_types::Any {
            type_url: "type.googleapis.com/procedo.workflow.v1.InstanceProgress".into(),
            value: prost::Message::encode_to_vec(&procedo_proto::workflow::InstanceProgress {
                business_key: format!("applications/{}", uuid::Uuid::now_v7()),
                sequence: 1,
                ..Default::default()
            }),
        }),
        ..Default::default()
    };

    let first = sink
        .deliver(common::DeliverRequest {
            event: Some(event.clone()),
        })
        .await
        .expect("delivered")
        .into_inner();
    let again = sink
        .deliver(common::DeliverRequest { event: Some(event) })
        .await
        .expect("redelivered")
        .into_inner();
    let clerk = EventSinkServiceClient::with_interceptor(
        app.server.channel.clone(),
        Bearer(Some(app.tokens.token(Role::IntakeClerk))),
    )
    .deliver(common::DeliverRequest::default())
    .await
    .expect_err("only services deliver events");

    assert!(!first.duplicate);
    assert!(again.duplicate);
    assert_eq!(clerk.code(), tonic::Code::PermissionDenied);
}

async fn a_call_that_outlives_the_request_timeout_gets_deadline_exceeded_and_stores_nothing(
    backend: Backend,
) {
    let app = TestIntake::spawn_with(backend, |c| {
        c.server.limits.request_timeout = std::time::Duration::from_millis(300);
    })
    .await;
    app.create_type("loan", &[]).await;
    // Hold the write path: the single writer on SQLite, the counter table on
    // PostgreSQL.
    let mut blocker = app.db.begin().await.expect("a transaction");
    if backend == Backend::Postgres {
        sqlx::query("LOCK TABLE ledger_counters IN ACCESS EXCLUSIVE MODE")
            .execute(&mut *blocker)
            .await
            .expect("locked");
    }

    let late = app
        .client(Role::IntakeClerk)
        .submit_application(submission("loan", "Wang Fang", &[]))
        .await
        .expect_err("blocked past the timeout");
    blocker.rollback().await.expect("released");
    let next = app.submit(submission("loan", "Zhao Lei", &[])).await;

    assert_eq!(late.code(), tonic::Code::DeadlineExceeded, "{late:?}");
    assert!(
        next.ledger_number.ends_with("-000001"),
        "the timed-out call kept nothing: {}",
        next.ledger_number
    );
}

async fn every_mutation_queues_an_audit_record_with_actor_and_action(backend: Backend) {
    use prost::Message as _;

    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    let filed = app.submit(submission("loan", "Wang Fang", &[])).await;
    app.client(Role::IntakeClerk)
        .review_application(procedo_proto::intake::ReviewApplicationRequest {
            name: filed.name.clone(),
            decision: procedo_proto::intake::ReviewDecision::Accept as i32,
            ..Default::default()
        })
        .await
        .expect("accepted");

    let page = procedo_platform::paging::Page::rows(100, None);
    let mut records =
        procedo_platform::outbox::list(&app.db, procedo_platform::outbox::AUDIT, None, None, &page)
            .await
            .expect("audit records");
    records.reverse();

    let audit: Vec<_> = records
        .iter()
        .map(|r| {
            let data = r.event.data.as_ref().expect("data");
            let record =
                common::AuditRecord::decode(data.value.as_slice()).expect("an audit record");
            let actor = r.event.actor.as_ref().expect("actor").subject.clone();
            (record.action, record.resource, record.detail, actor)
        })
        .collect();
    assert_eq!(
        audit,
        [
            (
                "intake.application_types.create".to_owned(),
                "applicationTypes/loan".to_owned(),
                String::new(),
                "admin-user".to_owned()
            ),
            (
                "intake.applications.submit".to_owned(),
                filed.name.clone(),
                " -> PENDING_REVIEW".to_owned(),
                "intake_clerk-user".to_owned()
            ),
            (
                "intake.applications.review".to_owned(),
                filed.name.clone(),
                "PENDING_REVIEW -> ACCEPTED".to_owned(),
                "intake_clerk-user".to_owned()
            ),
        ]
    );
    assert!(
        records
            .iter()
            .all(|r| r.event.time.is_some() && r.event.source == "procedo.intake")
    );
}

async fn calls_still_running_after_the_shutdown_grace_are_cancelled_and_store_nothing(
    backend: Backend,
) {
    let grace = std::time::Duration::from_millis(300);
    let mut app = TestIntake::spawn_with(backend, |c| c.server.limits.shutdown_grace = grace).await;
    app.create_type("loan", &[]).await;
    // Hold the write path: the single writer on SQLite, the counter table on
    // PostgreSQL.
    let mut blocker = app.db.begin().await.expect("a transaction");
    if backend == Backend::Postgres {
        sqlx::query("LOCK TABLE ledger_counters IN ACCESS EXCLUSIVE MODE")
            .execute(&mut *blocker)
            .await
            .expect("locked");
    }
    let mut clerk = app.client(Role::IntakeClerk);
    let blocked = tokio::spawn(async move {
        clerk
            .submit_application(submission("loan", "Wang Fang", &[]))
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let stopping = std::time::Instant::now();
    app.server.stop().await;
    let stopped_after = stopping.elapsed();
    let cancelled = blocked
        .await
        .expect("the call ends")
        .expect_err("cancelled at the end of the grace period");
    blocker.rollback().await.expect("released");

    assert!(
        stopped_after < grace + std::time::Duration::from_secs(2),
        "stopped {stopped_after:?} after the signal"
    );
    assert_eq!(cancelled.code(), tonic::Code::Unavailable, "{cancelled:?}");
    let mut restarted =
        procedo_testkit::TestService::spawn::<procedo_intake::Intake>(&app.database, |_| {}).await;
    let stored: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM applications")
        .fetch_one(restarted.db.reader())
        .await
        .expect("counted");
    assert_eq!(stored, 0, "the cancelled call kept nothing");
    restarted.stop().await;
}

async fn a_call_with_oversized_headers_is_refused_alone_and_its_connection_kept(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    // A call in flight on the connection: held on the write path.
    let mut blocker = app.db.begin().await.expect("a transaction");
    if backend == Backend::Postgres {
        sqlx::query("LOCK TABLE ledger_counters IN ACCESS EXCLUSIVE MODE")
            .execute(&mut *blocker)
            .await
            .expect("locked");
    }
    let mut clerk = app.client(Role::IntakeClerk);
    let in_flight = tokio::spawn(async move {
        clerk
            .submit_application(submission("loan", "Wang Fang", &[]))
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let huge = format!(
        "{}.{}",
        app.tokens.token(Role::Auditor),
        "x".repeat(64 * 1024)
    );
    let refused = app
        .client_with(Some(huge))
        .list_inquiries(procedo_proto::intake::ListInquiriesRequest::default())
        .await
        .expect_err("headers too large");
    blocker.rollback().await.expect("released");
    let filed = in_flight.await.expect("the call ends");

    assert_eq!(
        refused.code(),
        tonic::Code::ResourceExhausted,
        "{refused:?}"
    );
    assert!(refused.message().contains("at most"), "{refused:?}");
    filed.expect("the call in flight on the same connection went through");
}

async fn health_says_not_serving_as_soon_as_draining_starts(backend: Backend) {
    // A grace period far longer than the bound below: the open watch must
    // not hold the drain.
    let grace = std::time::Duration::from_secs(30);
    let mut app = TestIntake::spawn_with(backend, |c| c.server.limits.shutdown_grace = grace).await;
    let mut watch = HealthClient::new(app.server.channel.clone())
        .watch(tonic_health::pb::HealthCheckRequest {
            service: "procedo.intake.v1.IntakeService".into(),
        })
        .await
        .expect("watching")
        .into_inner();
    let first = watch.message().await.expect("a status").expect("one");
    assert_eq!(first.status(), ServingStatus::Serving);

    // The watcher hears that the service no longer takes calls, then its
    // stream ends cleanly with UNAVAILABLE, and the server stops at once.
    let hears = async {
        let next = watch.message().await;
        let end = watch.message().await;
        (next, end)
    };
    let bound = std::time::Duration::from_secs(10);
    let stopped = tokio::time::timeout(bound, async { tokio::join!(app.server.stop(), hears) })
        .await
        .expect("the open watch does not hold the drain");
    let ((), (next, end)) = stopped;
    match next {
        Ok(Some(status)) => assert_eq!(status.status(), ServingStatus::NotServing),
        other => panic!("expected NOT_SERVING while draining, got {other:?}"),
    }
    match end {
        Err(status) => {
            assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
            assert!(status.message().contains("shutting down"), "{status:?}");
        }
        other => panic!("expected the stream to end with UNAVAILABLE, got {other:?}"),
    }
}

/// An identity provider's JWKS document holding one HS256 key.
fn jwks(k: &str) -> String {
    format!(r#"{{"keys":[{{"kty":"oct","alg":"HS256","k":"{k}"}}]}}"#)
}

/// Keys rotated without a restart: the service verifies with the JWKS file
/// as it is now, and keeps the keys in use while the file does not read.
async fn verification_keys_are_reread_when_their_file_changes(backend: Backend) {
    const FIRST: &str = "the-first-signing-secret-of-the-idp";
    const SECOND: &str = "the-second-signing-secret-of-the-idp";
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("jwks.json");
    std::fs::write(
        &path,
        jwks("dGhlLWZpcnN0LXNpZ25pbmctc2VjcmV0LW9mLXRoZS1pZHA"),
    )
    .expect("written");
    let file = path.clone();
    let app = TestIntake::spawn_with(backend, move |c| c.auth.jwks_file = Some(file)).await;
    let call = |secret: &'static str| {
        let token = procedo_platform::auth::DevSigner::new(secret.as_bytes()).token(
            "ops",
            "sales",
            &[Role::Admin],
            60,
        );
        let mut client = app.client_with(Some(token));
        async move {
            client
                .list_application_types(
                    procedo_proto::intake::ListApplicationTypesRequest::default(),
                )
                .await
                .map(|_| ())
                .map_err(|status| status.code())
        }
    };
    call(FIRST).await.expect("the first key is in use");
    assert_eq!(call(SECOND).await, Err(tonic::Code::Unauthenticated));

    // A broken file keeps the keys in use.
    std::fs::write(&path, "{ not json").expect("written");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    call(FIRST).await.expect("the keys in use are kept");

    std::fs::write(
        &path,
        jwks("dGhlLXNlY29uZC1zaWduaW5nLXNlY3JldC1vZi10aGUtaWRw"),
    )
    .expect("written");
    let rotated = std::time::Instant::now();
    while call(SECOND).await.is_err() {
        assert!(
            rotated.elapsed() < std::time::Duration::from_secs(10),
            "the rotated key is not in use after 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(call(FIRST).await, Err(tonic::Code::Unauthenticated));
}
