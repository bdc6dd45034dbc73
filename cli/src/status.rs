//! `procedo status`: whether each service answers, is serving, and which
//! version it runs — at the endpoints the client commands would use.

use std::time::{Duration, Instant};

use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use clap::ValueEnum as _;

use crate::client::Connection;
use crate::dev::Part;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    connection: Connection,
    /// How long each service has to answer.
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    timeout: Duration,
}

/// One service as `status` found it.
struct Found {
    service: &'static str,
    endpoint: String,
    status: String,
    version: String,
    took: Duration,
}

/// Exits non-zero unless every service is SERVING.
pub async fn run(args: StatusArgs) -> anyhow::Result<()> {
    let checks = Part::value_variants().iter().map(|&part| {
        let (name, service) = (part.name(), part.client());
        let connection = &args.connection;
        async move {
            let endpoint = connection.endpoint_of(service);
            let started = Instant::now();
            let asked = async {
                let channel = connection.channel(service).await?;
                let answer = HealthClient::new(channel)
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await?;
                let version = answer
                    .metadata()
                    .get(procedo_platform::calls::VERSION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let status = ServingStatus::try_from(answer.into_inner().status)
                    .map(|s| s.as_str_name().to_owned())
                    .unwrap_or_else(|_| "UNKNOWN".to_owned());
                anyhow::Ok((status, version))
            };
            let (status, version) = match tokio::time::timeout(args.timeout, asked).await {
                Ok(Ok(found)) => found,
                Ok(Err(e)) => (
                    format!("UNREACHABLE: {}", output::describe_error(&e)),
                    String::new(),
                ),
                Err(_) => (
                    format!("UNREACHABLE: no answer within {:?}", args.timeout),
                    String::new(),
                ),
            };
            Found {
                service: name,
                endpoint,
                status,
                version,
                took: started.elapsed(),
            }
        }
    });
    let found = futures::future::join_all(checks).await;
    match args.connection.output {
        Format::Json => {
            for f in &found {
                let line = serde_json::json!({
                    "service": f.service,
                    "endpoint": f.endpoint,
                    "status": f.status,
                    "version": f.version,
                    "millis": f.took.as_millis(),
                });
                crate::out!("{line}");
            }
        }
        Format::Table => output::table(
            &["SERVICE", "ENDPOINT", "STATUS", "VERSION", "TOOK"],
            &found
                .iter()
                .map(|f| {
                    vec![
                        f.service.to_owned(),
                        f.endpoint.clone(),
                        f.status.clone(),
                        f.version.clone(),
                        format!("{} ms", f.took.as_millis()),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
    }
    let down = found.iter().filter(|f| f.status != "SERVING").count();
    anyhow::ensure!(
        down == 0,
        "{down} of {} services are not serving",
        found.len()
    );
    Ok(())
}
