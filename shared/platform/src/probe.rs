//! `procedo-<service> health`: the service binary asks a server's health
//! itself, so an image needs no probe tool of its own (a container
//! `HEALTHCHECK`, a compose healthcheck, a script). It exits 0 when the
//! entry asked is SERVING, 1 otherwise, saying why.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::tls::TlsArgs;

/// The `health` subcommand's settings.
#[derive(Debug, Clone, clap::Args)]
pub struct Probe {
    /// The server to ask (http://HOST:PORT, https:// for TLS); by default
    /// this service's own listen address (PROCEDO_LISTEN), on loopback when
    /// it listens on every address — as https://localhost:PORT when the
    /// service serves TLS (so its certificate must name localhost, or
    /// give the endpoint), presenting the service's own certificate.
    #[arg(long)]
    pub endpoint: Option<String>,

    /// The health entry to ask: "" (the default) is the server as a whole,
    /// SERVING while it runs; a service's name (e.g.
    /// procedo.intake.v1.IntakeService) is SERVING only while it takes
    /// calls (its database answers, its background workers run, it is not
    /// draining).
    #[arg(long, default_value = "")]
    pub service: String,

    /// How long the answer may take.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

impl Probe {
    /// Asks; `Ok` when the entry is SERVING. `listen` is the service's own
    /// listen address.
    pub async fn run(&self, listen: SocketAddr, tls: &TlsArgs) -> anyhow::Result<()> {
        let endpoint = self.endpoint.clone().unwrap_or_else(|| {
            let at = reachable(listen);
            if tls.serves_tls() {
                format!("https://localhost:{}", at.port())
            } else {
                format!("http://{at}")
            }
        });
        let asked = if self.service.is_empty() {
            "the server".to_owned()
        } else {
            self.service.clone()
        };
        let channel = tls
            .dialer()?
            .endpoint(&endpoint)?
            .connect_timeout(self.timeout)
            .timeout(self.timeout)
            .connect()
            .await
            .map_err(|e| anyhow::Error::new(e).context(format!("{endpoint}: cannot connect")))?;
        let answer = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: self.service.clone(),
            })
            .await
            .map_err(|status| {
                anyhow::anyhow!(
                    "{endpoint}: {asked}: {:?}: {}",
                    status.code(),
                    status.message()
                )
            })?
            .into_inner();
        match answer.status() {
            ServingStatus::Serving => Ok(()),
            other => anyhow::bail!("{endpoint}: {asked} is {}", other.as_str_name()),
        }
    }
}

/// Where a client on this machine reaches a server listening on `listen`.
fn reachable(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_on_every_address_is_asked_on_loopback() {
        let at = |s: &str| reachable(s.parse().expect("an address")).to_string();
        assert_eq!(at("0.0.0.0:7102"), "127.0.0.1:7102");
        assert_eq!(at("[::]:7103"), "[::1]:7103");
        assert_eq!(at("10.1.2.3:7104"), "10.1.2.3:7104");
    }
}
