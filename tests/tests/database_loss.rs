//! Losing the database, with a PostgreSQL server this test starts and stops
//! itself: callers get UNAVAILABLE within about a second, the service's
//! health entries say NOT_SERVING while the overall entry (what liveness
//! probes ask) stays SERVING, and once the server is back everything
//! recovers by itself with nothing acknowledged lost.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use procedo_intake::Intake;
use procedo_platform::identity::Role;
use procedo_proto::intake as pb;
use procedo_proto::intake::intake_service_client::IntakeServiceClient;
use procedo_testkit::{Bearer, TestDatabase, TestService, Tokens};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// A PostgreSQL server of the test's own, in a temporary folder.
struct OwnPostgres {
    bin: PathBuf,
    data: tempfile::TempDir,
    port: u16,
}

/// Runs a PostgreSQL program; as the `postgres` user when this is root,
/// which PostgreSQL refuses to run as.
fn pg(bin: &Path, program: &str, args: &[&str]) {
    let path = bin.join(program);
    let status = if running_as_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&path)
            .args(args)
            .status()
    } else {
        Command::new(&path).args(args).status()
    }
    .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(status.success(), "{program} {args:?} failed");
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl OwnPostgres {
    fn start() -> OwnPostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server binaries in /usr/lib/postgresql")
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .find(|p| p.join("pg_ctl").exists())
            .expect("pg_ctl");
        let data = tempfile::tempdir().expect("a folder");
        if running_as_root() {
            let owner = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(data.path())
                .status()
                .expect("chown runs");
            assert!(owner.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = data.path().to_str().expect("a UTF-8 path").to_owned();
        pg(
            &bin,
            "initdb",
            &["-D", &dir, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        );
        let server = OwnPostgres { bin, data, port };
        server.up();
        server
    }

    fn dir(&self) -> String {
        self.data.path().to_str().expect("UTF-8").to_owned()
    }

    fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir()
        );
        let log = format!("{}/server.log", self.dir());
        pg(
            &self.bin,
            "pg_ctl",
            &["-D", &self.dir(), "-o", &options, "-l", &log, "-w", "start"],
        );
    }

    fn down(&self) {
        pg(
            &self.bin,
            "pg_ctl",
            &["-D", &self.dir(), "-m", "fast", "-w", "stop"],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", &self.dir(), "-m", "immediate", "stop"])
            .status();
    }
}

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
