//! Losing the database, with a PostgreSQL server this test starts and stops
//! itself: callers get UNAVAILABLE within about a second, the service's
//! health entries say NOT_SERVING while the overall entry (what liveness
//! probes ask) stays SERVING, and once the server is back everything
//! recovers by itself with nothing acknowledged lost.

use std::time::{Duration, Instant};

use procedo_intake::Intake;
use procedo_platform::identity::Role;
use procedo_proto::intake as pb;
use procedo_proto::intake::intake_service_client::IntakeServiceClient;
use procedo_testkit::{Bearer, TestDatabase, TestService, Tokens};
use procedo_tests::postgres::OwnPostgres;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

async fn health(channel: tonic::transport::Channel, service: &str) -> ServingStatus {
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .expect("health answers without the database")
        .into_inner()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL's server binaries: run ignored tests"]
async fn losing_the_database_is_unavailable_at_once_and_recovers_by_itself() {
    let server = tokio::task::spawn_blocking(OwnPostgres::start)
        .await
        .expect("started");
    let database = TestDatabase::postgres(&server.url(), "intake");
    let mut intake = TestService::spawn::<Intake>(&database, |_| {}).await;
    let tokens = Tokens::default();
    let client = |role| {
        IntakeServiceClient::with_interceptor(
            intake.channel.clone(),
            Bearer(Some(tokens.token(role))),
        )
    };
    let mut admin = client(Role::Admin);
    admin
        .create_application_type(pb::CreateApplicationTypeRequest {
            request_id: String::new(),
            application_type: Some(pb::ApplicationType {
                code: "loan".into(),
                display_name: "Loan".into(),
                in_scope: true,
                process_key: "standard".into(),
                processing_time_limit: Some(prost_types::Duration {
                    seconds: 86_400,
                    nanos: 0,
                }),
                ..Default::default()
            }),
        })
        .await
        .expect("created while the database is up");

    let stopping = tokio::task::spawn_blocking(move || {
        server.down();
        server
    });
    let server = stopping.await.expect("stopped");
    let down_at = Instant::now();
    // Within a few seconds of the loss, each call is answered UNAVAILABLE
    // within about a second.
    let mut answered_quickly = false;
    while down_at.elapsed() < Duration::from_secs(10) {
        let asked = Instant::now();
        let answer = admin
            .list_application_types(pb::ListApplicationTypesRequest::default())
            .await;
        let took = asked.elapsed();
        if let Err(status) = &answer {
            assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
            if took < Duration::from_millis(1_500) && down_at.elapsed() > Duration::from_secs(2) {
                answered_quickly = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answered_quickly, "UNAVAILABLE within about a second");
    assert_eq!(
        health(intake.channel.clone(), "procedo.intake.v1.IntakeService").await,
        ServingStatus::NotServing
    );
    assert_eq!(
        health(intake.channel.clone(), "").await,
        ServingStatus::Serving,
        "liveness stays SERVING"
    );

    let server = tokio::task::spawn_blocking(move || {
        server.up();
        server
    })
    .await
    .expect("started again");
    let up_at = Instant::now();
    let mut recovered = false;
    while up_at.elapsed() < Duration::from_secs(15) {
        if let Ok(types) = admin
            .list_application_types(pb::ListApplicationTypesRequest::default())
            .await
        {
            assert_eq!(
                types.into_inner().application_types.len(),
                1,
                "nothing lost"
            );
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "calls succeed again without a restart");
    let mut serving = false;
    for _ in 0..50 {
        if health(intake.channel.clone(), "procedo.intake.v1.IntakeService").await
            == ServingStatus::Serving
        {
            serving = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(serving, "health SERVING again");
    intake.stop().await;
    drop(database);
    drop(server);
}
