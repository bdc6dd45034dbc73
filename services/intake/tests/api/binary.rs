//! The `procedo-intake` binary as an ops team runs it: settings from a
//! configuration file and a secret from a file, its own health probe, a
//! clean stop on SIGTERM, and a start-up failure that names its cause in
//! the log format asked for.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use procedo_platform::auth::DevSigner;
use procedo_platform::config::DEV_JWT_SECRET;
use procedo_platform::identity::Role;
use procedo_proto::intake as pb;
use procedo_proto::intake::intake_service_client::IntakeServiceClient;
use procedo_testkit::Bearer;

const BINARY: &str = env!("CARGO_BIN_EXE_procedo-intake");
const SECRET: &str = "a-secret-read-from-a-mounted-file";

/// The binary with nothing inherited that would change its settings.
fn binary(config: &Path) -> Command {
    let mut command = Command::new(BINARY);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PROCEDO_") {
            command.env_remove(name);
        }
    }
    command.env("PROCEDO_CONFIG_FILE", config);
    command
}

fn health(config: &Path, args: &[&str]) -> Output {
    binary(config)
        .arg("health")
        .args(args)
        .output()
        .expect("the probe runs")
}

/// `GET /metrics`, as a Prometheus server scrapes.
fn scrape(at: std::net::SocketAddr) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(at).expect("the metrics endpoint");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: procedo\r\n\r\n")
        .expect("asked");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("answered");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn the_binary_reads_a_settings_file_and_a_secret_file_and_probes_its_own_health() {
    let dir = tempfile::tempdir().expect("a folder");
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
    };
    let (addr, metrics) = (free(), free());
    let secret = dir.path().join("jwt-secret");
    std::fs::write(&secret, format!("{SECRET}\n")).expect("written");
    let config = dir.path().join("intake.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"{addr}\"\ndata_dir = \"{}\"\nlog = \"warn\"\nshutdown-grace = \"20s\"\n\
             metrics_listen = \"{metrics}\"\n",
            dir.path().display()
        ),
    )
    .expect("written");

    let mut server = binary(&config)
        .env("PROCEDO_JWT_SECRET_FILE", &secret)
        .stdout(Stdio::null())
        .spawn()
        .expect("started");
    // The probe finds the server where the file says it listens.
    let started = Instant::now();
    let serving = loop {
        let probe = health(&config, &["--timeout", "1s"]);
        if probe.status.success() || started.elapsed() > Duration::from_secs(30) {
            break probe;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(serving.status.success(), "{}", text(&serving.stderr));
    assert_eq!(text(&serving.stdout).trim(), "SERVING");
    let api = health(&config, &["--service", "procedo.intake.v1.IntakeService"]);
    assert!(api.status.success(), "{}", text(&api.stderr));
    let unknown = health(&config, &["--service", "procedo.nothing.v1.Nothing"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains("NotFound"),
        "{}",
        text(&unknown.stderr)
    );

    // The secret came from its file: its tokens are accepted, the
    // development secret's are not.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("a URI")
        .connect()
        .await
        .expect("connected");
    let call = |secret: &str| {
        let token = DevSigner::new(secret.as_bytes()).token("ops", "sales", &[Role::Admin], 60);
        let mut client =
            IntakeServiceClient::with_interceptor(channel.clone(), Bearer(Some(token)));
        async move {
            client
                .list_application_types(pb::ListApplicationTypesRequest::default())
                .await
        }
    };
    call(SECRET)
        .await
        .expect("the file's secret signs valid tokens");
    let token = DevSigner::new(SECRET.as_bytes()).token("ops", "sales", &[Role::Admin], 60);
    IntakeServiceClient::with_interceptor(channel.clone(), Bearer(Some(token)))
        .create_inquiry(crate::helpers::inquiry(pb::Channel::Phone))
        .await
        .expect("an inquiry is written");
    let refused = call(DEV_JWT_SECRET).await.expect_err("another secret");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);

    // The calls are counted, by method and code, on the Prometheus
    // endpoint, beside the database pool.
    let scraped = scrape(metrics);
    let method = "rpc_method=\"procedo.intake.v1.IntakeService/ListApplicationTypes\"";
    let count = |code: &str| {
        scraped
            .lines()
            .find(|l| {
                l.starts_with("rpc_server_call_duration_seconds_count{")
                    && l.contains(method)
                    && l.contains(&format!("rpc_response_status_code=\"{code}\""))
            })
            .and_then(|l| l.rsplit(' ').next())
            .map(str::to_owned)
    };
    assert_eq!(count("OK").as_deref(), Some("1"), "{scraped}");
    assert_eq!(count("UNAUTHENTICATED").as_deref(), Some("1"), "{scraped}");
    assert!(
        scraped.contains("db_client_connection_count{db_client_connection_pool_name=\"intake\""),
        "{scraped}"
    );
    // The inquiry's write transaction waited for its connection: timed.
    assert!(
        scraped.contains(
            "db_client_connection_wait_time_seconds_count{db_client_connection_pool_name=\"intake\"}"
        ),
        "{scraped}"
    );
    assert!(
        scraped.contains("procedo_intake_inquiries_overdue{service=\"intake\"} 0"),
        "{scraped}"
    );
    assert!(
        scraped.contains("procedo_inbox_events{service=\"intake\"} 0"),
        "{scraped}"
    );

    // SIGTERM: drained and stopped, well within the grace period.
    let pid = server.id().to_string();
    let signalled = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(signalled.expect("kill runs").success());
    let stopping = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().expect("waited") {
            break status;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(10),
            "did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    let gone = health(&config, &["--timeout", "1s"]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(
        text(&gone.stderr).contains("cannot connect"),
        "{}",
        text(&gone.stderr)
    );
}

#[test]
fn a_misspelt_setting_stops_the_binary_with_one_json_line_that_names_it() {
    let dir = tempfile::tempdir().expect("a folder");
    let config = dir.path().join("intake.toml");
    std::fs::write(&config, "databse_url = \"postgres://db/procedo\"\n").expect("written");

    let output = binary(&config)
        .env("PROCEDO_LOG_FORMAT", "json")
        .output()
        .expect("ran");

    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let line: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON line");
    assert_eq!(line["level"], "ERROR", "{line}");
    let error = line["error"].as_str().expect("an error");
    assert!(
        error.contains("\"databse_url\" is not a setting"),
        "{error}"
    );
    assert!(error.contains("intake.toml"), "{error}");
}

#[test]
fn a_secret_given_both_ways_is_refused_naming_both() {
    let dir = tempfile::tempdir().expect("a folder");
    let config = dir.path().join("intake.toml");
    std::fs::write(&config, "").expect("written");
    let secret = dir.path().join("url");
    std::fs::write(&secret, "postgres://db/procedo\n").expect("written");

    let output = binary(&config)
        .env("PROCEDO_DATABASE_URL", "postgres://other/procedo")
        .env("PROCEDO_DATABASE_URL_FILE", &secret)
        .output()
        .expect("ran");

    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("PROCEDO_DATABASE_URL and PROCEDO_DATABASE_URL_FILE are both set"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("postgres://"),
        "no secret in the message: {stderr}"
    );
}
