//! Settings every service shares. Each has a default that works for local
//! use, a `PROCEDO_*` environment variable for containers, and a `--flag`
//! whose doc comment is its `--help` text. [`ServiceArgs::validate`] runs at
//! start-up and names the setting that is wrong.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;

use crate::auth::Verifier;
use crate::db::{Backend, DbOptions};

/// The HS256 secret used when none is configured. Only accepted while the
/// server listens on a loopback address, so it can never guard a reachable
/// deployment.
pub const DEV_JWT_SECRET: &str = "procedo-dev-secret-do-not-use-in-production";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The company the services run for.
#[derive(Debug, Clone, clap::Args)]
pub struct CompanyArgs {
    /// The company's time zone (IANA name, e.g. Asia/Shanghai): ledger
    /// years, periods and "today" follow it; timestamps on the wire stay
    /// UTC. UTC when unset.
    #[arg(long = "time-zone", env = "PROCEDO_TIME_ZONE", value_parser = parse_zone)]
    pub time_zone: Option<chrono_tz::Tz>,

    /// The company's working calendar, a YAML file (hours per weekday,
    /// holidays, make-up working days; see examples/calendar.yaml): working
    /// time limits (`8wh`, `5wd`) count on it. Monday to Friday,
    /// 09:00–12:00 and 13:00–18:00 in the company's zone when unset.
    #[arg(long = "calendar-file", env = "PROCEDO_CALENDAR_FILE")]
    pub calendar_file: Option<PathBuf>,

    /// Where the domain reads "now": the system clock, or a test's.
    #[arg(skip)]
    pub clock: crate::time::Clock,
}

fn parse_zone(name: &str) -> Result<chrono_tz::Tz, String> {
    name.trim()
        .parse()
        .map_err(|_| format!("{name:?} is not an IANA time zone name (e.g. Asia/Shanghai)"))
}

impl CompanyArgs {
    /// The company's zone; UTC, said once at start-up, when unset.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.time_zone.unwrap_or_else(|| {
            tracing::info!("PROCEDO_TIME_ZONE is unset: years and periods follow UTC");
            chrono_tz::UTC
        })
    }

    /// The company's calendar: the file's, or the standard one in `zone`.
    pub fn calendar(&self, zone: chrono_tz::Tz) -> anyhow::Result<crate::calendar::Calendar> {
        let Some(path) = &self.calendar_file else {
            return Ok(crate::calendar::Calendar::standard(zone));
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("PROCEDO_CALENDAR_FILE {}", path.display()))?;
        crate::calendar::Calendar::from_yaml(&text, zone)
            .map_err(|e| anyhow::anyhow!("PROCEDO_CALENDAR_FILE {}: {e}", path.display()))
    }
}

/// Logs and traces.
#[derive(Debug, Clone, clap::Args)]
pub struct TelemetryArgs {
    /// Log filter, in `tracing` EnvFilter syntax (e.g. `info,procedo_intake=debug`).
    #[arg(long = "log", env = "PROCEDO_LOG", default_value = "info")]
    pub log_filter: String,

    /// Log line format.
    #[arg(long, env = "PROCEDO_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// OTLP/gRPC endpoint to export traces and metrics to (e.g.
    /// http://otel-collector:4317); nothing is exported when unset or
    /// empty.
    #[arg(long, env = "PROCEDO_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,

    /// Address of a Prometheus endpoint (`GET /metrics`, e.g.
    /// 0.0.0.0:9464); none when unset.
    #[arg(long, env = "PROCEDO_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

impl TelemetryArgs {
    /// Where to export over OTLP, if anywhere: an empty value is unset, as
    /// OpenTelemetry's own variables treat it (so a compose file can leave
    /// it empty by default).
    pub fn otlp(&self) -> Option<&str> {
        self.otlp_endpoint.as_deref().filter(|e| !e.is_empty())
    }
}

/// The database.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// `postgres://…` or `sqlite://…` URL; unset means a SQLite file per
    /// service in the data folder. PROCEDO_DATABASE_URL_FILE names a file
    /// holding it instead.
    #[arg(long, env = "PROCEDO_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// PostgreSQL schema for this service's tables; defaults to the service
    /// name.
    #[arg(long, env = "PROCEDO_DATABASE_SCHEMA")]
    pub database_schema: Option<String>,

    /// Folder for the embedded SQLite files.
    #[arg(long, env = "PROCEDO_DATA_DIR", default_value = ".procedo")]
    pub data_dir: PathBuf,

    /// Most connections pooled per service.
    #[arg(long, env = "PROCEDO_DATABASE_MAX_CONNECTIONS", default_value_t = 16)]
    pub database_max_connections: u32,

    /// Longest wait for a PostgreSQL connection before a call gets
    /// UNAVAILABLE; while the database is known down, calls get it at once.
    #[arg(long, env = "PROCEDO_DATABASE_ACQUIRE_TIMEOUT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub database_acquire_timeout: Duration,
}

impl DatabaseArgs {
    /// Where `service` keeps its data.
    pub fn options(&self, service: &str) -> anyhow::Result<DbOptions> {
        let options = match &self.database_url {
            Some(url) => {
                Backend::of_url(url).context("PROCEDO_DATABASE_URL")?;
                DbOptions {
                    url: url.clone(),
                    schema: self
                        .database_schema
                        .clone()
                        .unwrap_or_else(|| service.to_owned()),
                    max_connections: self.database_max_connections,
                    acquire_timeout: self.database_acquire_timeout,
                }
            }
            None => DbOptions {
                max_connections: self.database_max_connections,
                ..DbOptions::sqlite_file(&self.data_dir, service)
            },
        };
        anyhow::ensure!(
            options.acquire_timeout >= Duration::from_millis(100),
            "PROCEDO_DATABASE_ACQUIRE_TIMEOUT must be at least 100ms"
        );
        anyhow::ensure!(
            options.max_connections >= 1,
            "PROCEDO_DATABASE_MAX_CONNECTIONS must be at least 1"
        );
        Ok(options)
    }
}

/// How bearer tokens are verified.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthArgs {
    /// HS256 shared secret (local use; PROCEDO_JWT_SECRET_FILE names a file
    /// holding it). When no key at all is configured, a built-in
    /// development secret is used, and only on loopback addresses.
    #[arg(long, env = "PROCEDO_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// PEM file with the identity provider's public key (RSA, EC P-256 or
    /// Ed25519).
    #[arg(long, env = "PROCEDO_JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,

    /// JWKS file with the identity provider's signing keys (as Keycloak
    /// publishes at /protocol/openid-connect/certs).
    #[arg(long, env = "PROCEDO_JWKS_FILE")]
    pub jwks_file: Option<PathBuf>,

    /// Required `iss` claim, when set.
    #[arg(long, env = "PROCEDO_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// Required `aud` claim, when set.
    #[arg(long, env = "PROCEDO_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// Bearer token (with the `service` role) this service presents to its
    /// peers (PROCEDO_SERVICE_TOKEN_FILE names a file holding it); when
    /// unset, it mints its own with PROCEDO_JWT_SECRET (or the development
    /// secret on loopback).
    #[arg(long, env = "PROCEDO_SERVICE_TOKEN", hide_env_values = true)]
    pub service_token: Option<String>,

    /// Secret (32+ characters) that seals the lists' page tokens; every
    /// replica of a service needs the same one (PROCEDO_PAGE_TOKEN_KEY_FILE
    /// names a file holding it). When unset or empty, a random key is made
    /// at start: tokens then hold on this process only, until it restarts.
    #[arg(long, env = "PROCEDO_PAGE_TOKEN_KEY", hide_env_values = true)]
    pub page_token_key: Option<String>,
}

impl AuthArgs {
    /// The verifier these settings describe. `loopback_only` says whether
    /// the server is reachable only from this machine.
    pub fn verifier(&self, loopback_only: bool) -> anyhow::Result<Verifier> {
        let mut verifier: Option<Verifier> = self
            .jwt_secret
            .as_deref()
            .map(|secret| {
                anyhow::ensure!(
                    secret.len() >= 16,
                    "PROCEDO_JWT_SECRET must be at least 16 characters"
                );
                anyhow::ensure!(
                    loopback_only || secret != DEV_JWT_SECRET,
                    "PROCEDO_JWT_SECRET is the built-in development secret, which anyone can mint \
                     tokens with; it is only accepted on loopback addresses"
                );
                Ok(Verifier::hs256(secret.as_bytes()))
            })
            .transpose()?;
        if let Some(path) = &self.jwt_public_key_file {
            let pem = std::fs::read(path)
                .with_context(|| format!("PROCEDO_JWT_PUBLIC_KEY_FILE {}", path.display()))?;
            verifier = Some(
                empty_or(verifier)
                    .with_public_key_pem(&pem)
                    .with_context(|| format!("PROCEDO_JWT_PUBLIC_KEY_FILE {}", path.display()))?,
            );
        }
        if let Some(path) = &self.jwks_file {
            let json = std::fs::read(path)
                .with_context(|| format!("PROCEDO_JWKS_FILE {}", path.display()))?;
            verifier = Some(
                empty_or(verifier)
                    .with_jwks(&json)
                    .with_context(|| format!("PROCEDO_JWKS_FILE {}", path.display()))?,
            );
        }
        let verifier = match verifier {
            Some(v) => v,
            None => {
                anyhow::ensure!(
                    loopback_only,
                    "no token verification key is configured: set PROCEDO_JWT_PUBLIC_KEY_FILE, \
                     PROCEDO_JWKS_FILE or PROCEDO_JWT_SECRET (the built-in development secret \
                     is only accepted on loopback addresses)"
                );
                Verifier::hs256(DEV_JWT_SECRET.as_bytes())
            }
        };
        Ok(verifier
            .with_issuer(self.jwt_issuer.clone())
            .with_audience(self.jwt_audience.clone()))
    }
}

impl AuthArgs {
    /// How `service` authenticates to its peers: the configured service
    /// token, or tokens minted with the HS256 secret (the development one
    /// on loopback); `None` when neither is available, which only matters
    /// if the service has peers.
    pub fn service_credentials(
        &self,
        service: &str,
        loopback_only: bool,
    ) -> Option<crate::auth::ServiceCredentials> {
        use crate::auth::{DevSigner, ServiceCredentials};
        if let Some(token) = self
            .service_token
            .as_deref()
            .filter(|t| !t.trim().is_empty())
        {
            return Some(ServiceCredentials::Token(token.trim().to_owned()));
        }
        let secret = match &self.jwt_secret {
            Some(secret) => secret.as_str(),
            None if loopback_only
                && self.jwt_public_key_file.is_none()
                && self.jwks_file.is_none() =>
            {
                DEV_JWT_SECRET
            }
            None => return None,
        };
        Some(ServiceCredentials::Minted {
            signer: DevSigner::new(secret.as_bytes()),
            subject: format!("procedo-{service}"),
        })
    }
}

fn empty_or(verifier: Option<Verifier>) -> Verifier {
    verifier.unwrap_or_else(Verifier::empty)
}

/// The gRPC server of a standalone service.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on; by default loopback and the service's own
    /// port (intake 7101, workflow 7102, document 7103, compliance 7104).
    #[arg(long, env = "PROCEDO_LISTEN")]
    pub listen: Option<SocketAddr>,

    #[command(flatten)]
    pub limits: LimitArgs,
}

impl ServerArgs {
    /// Where to listen: the address set, or loopback on `port`, the
    /// service's own.
    pub fn listen_on(&self, port: u16) -> SocketAddr {
        self.listen
            .unwrap_or_else(|| SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port)))
    }
}

/// What one server allows; `procedo dev` takes these for all its services.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Longest time one call may take before it fails with DEADLINE_EXCEEDED.
    #[arg(long, env = "PROCEDO_REQUEST_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,

    /// Most calls served at once across all connections; more wait.
    #[arg(long, env = "PROCEDO_CONCURRENCY_LIMIT", default_value_t = 512)]
    pub concurrency_limit: usize,

    /// Largest request or response message, in bytes.
    #[arg(long, env = "PROCEDO_MAX_MESSAGE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_message_bytes: usize,

    /// Largest header block of one call (bearer token included), in bytes;
    /// a call over it is refused on its own with its connection kept.
    #[arg(long, env = "PROCEDO_MAX_HEADER_BYTES", default_value_t = 32 * 1024)]
    pub max_header_bytes: u32,

    /// How long shutdown waits for calls in flight before it stops anyway.
    #[arg(long, env = "PROCEDO_SHUTDOWN_GRACE", default_value = "30s", value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,
}

impl LimitArgs {
    /// The server's limits, checked: each wrong one is named.
    pub fn limits(&self) -> anyhow::Result<crate::server::Limits> {
        anyhow::ensure!(
            self.request_timeout >= Duration::from_millis(100),
            "PROCEDO_REQUEST_TIMEOUT must be at least 100ms"
        );
        anyhow::ensure!(
            self.concurrency_limit >= 1,
            "PROCEDO_CONCURRENCY_LIMIT must be at least 1"
        );
        anyhow::ensure!(
            (1024..=256 * 1024 * 1024).contains(&self.max_message_bytes),
            "PROCEDO_MAX_MESSAGE_BYTES must be between 1 KiB and 256 MiB"
        );
        anyhow::ensure!(
            (4 * 1024..=1024 * 1024).contains(&self.max_header_bytes),
            "PROCEDO_MAX_HEADER_BYTES must be between 4 KiB and 1 MiB"
        );
        Ok(crate::server::Limits {
            request_timeout: self.request_timeout,
            concurrency_limit: self.concurrency_limit,
            max_message_bytes: self.max_message_bytes,
            max_header_bytes: self.max_header_bytes,
            shutdown_grace: self.shutdown_grace,
        })
    }
}

/// How outbox relays retry deliveries.
#[derive(Debug, Clone, clap::Args)]
pub struct OutboxArgs {
    /// Delay before the first retry of a failed delivery; doubles each time.
    #[arg(long, env = "PROCEDO_OUTBOX_RETRY_BASE", default_value = "1s", value_parser = humantime::parse_duration)]
    pub outbox_retry_base: Duration,

    /// Longest delay between two delivery attempts.
    #[arg(long, env = "PROCEDO_OUTBOX_RETRY_MAX", default_value = "5m", value_parser = humantime::parse_duration)]
    pub outbox_retry_max: Duration,

    /// How often relays look for due events when no commit wakes them
    /// (retries fall due, events committed by other replicas).
    #[arg(long, env = "PROCEDO_OUTBOX_POLL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub outbox_poll: Duration,

    /// Longest time one delivery may take.
    #[arg(long, env = "PROCEDO_OUTBOX_DELIVERY_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub outbox_delivery_timeout: Duration,

    /// Peer services that receive this service's events, as NAME=URL
    /// (e.g. workflow=http://workflow:7102); comma-separated in the
    /// variable. Events for a peer not listed stay pending until it is.
    #[arg(long = "peer", env = "PROCEDO_PEERS", value_delimiter = ',', value_parser = parse_peer)]
    pub peers: Vec<Peer>,

    /// How long delivered events (and their attempts) are kept; pending
    /// and failed ones are kept until dealt with.
    #[arg(long, env = "PROCEDO_OUTBOX_RETENTION", default_value = "30days", value_parser = humantime::parse_duration)]
    pub outbox_retention: Duration,

    /// How long the ids of received events are kept against redelivery:
    /// longer than any sender keeps retrying.
    #[arg(long, env = "PROCEDO_INBOX_RETENTION", default_value = "30days", value_parser = humantime::parse_duration)]
    pub inbox_retention: Duration,

    /// How long a request id answers a retried call with its first result.
    #[arg(long, env = "PROCEDO_REQUEST_ID_RETENTION", default_value = "7days", value_parser = humantime::parse_duration)]
    pub request_id_retention: Duration,

    /// How often what is past its retention is deleted.
    #[arg(long, env = "PROCEDO_RETENTION_SWEEP", default_value = "1h", value_parser = humantime::parse_duration)]
    pub retention_sweep: Duration,
}

/// A peer service's event sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The outbox destination, e.g. "workflow".
    pub name: String,
    pub url: String,
}

fn parse_peer(spec: &str) -> Result<Peer, String> {
    let (name, url) = spec
        .split_once('=')
        .ok_or_else(|| format!("{spec:?} is not NAME=URL"))?;
    let (name, url) = (name.trim(), url.trim());
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c == '-')
    {
        return Err(format!(
            "peer name {name:?} must be lower-case letters, '_' or '-'"
        ));
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!(
            "peer {name}: {url:?} must be an http:// or https:// URL"
        ));
    }
    Ok(Peer {
        name: name.to_owned(),
        url: url.to_owned(),
    })
}

impl OutboxArgs {
    /// What the retention sweep keeps.
    pub fn retention(&self) -> anyhow::Result<crate::retention::Retention> {
        anyhow::ensure!(
            self.inbox_retention >= Duration::from_secs(3_600),
            "PROCEDO_INBOX_RETENTION must be at least an hour: a redelivery after it would be applied again"
        );
        anyhow::ensure!(
            self.retention_sweep >= Duration::from_secs(1),
            "PROCEDO_RETENTION_SWEEP must be at least a second"
        );
        Ok(crate::retention::Retention {
            delivered_events: self.outbox_retention,
            received_events: self.inbox_retention,
            request_ids: self.request_id_retention,
        })
    }

    pub fn policy(&self) -> anyhow::Result<crate::outbox::RetryPolicy> {
        anyhow::ensure!(
            self.outbox_retry_base <= self.outbox_retry_max,
            "PROCEDO_OUTBOX_RETRY_BASE must not exceed PROCEDO_OUTBOX_RETRY_MAX"
        );
        anyhow::ensure!(
            self.outbox_poll >= Duration::from_millis(10),
            "PROCEDO_OUTBOX_POLL must be at least 10ms"
        );
        Ok(crate::outbox::RetryPolicy {
            base: self.outbox_retry_base,
            poll: self.outbox_poll,
            max: self.outbox_retry_max,
            timeout: self.outbox_delivery_timeout,
            ..crate::outbox::RetryPolicy::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Settings {
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        auth: AuthArgs,
        #[command(flatten)]
        outbox: OutboxArgs,
    }

    fn parse(args: &[&str]) -> Settings {
        Settings::try_parse_from(std::iter::once("test").chain(args.iter().copied()))
            .expect("parsed")
    }

    #[test]
    fn an_empty_otlp_endpoint_exports_nothing() {
        #[derive(Debug, clap::Parser)]
        struct Telemetry {
            #[command(flatten)]
            telemetry: TelemetryArgs,
        }
        let otlp = |args: &[&str]| {
            Telemetry::try_parse_from(std::iter::once("test").chain(args.iter().copied()))
                .expect("parsed")
                .telemetry
                .otlp()
                .map(str::to_owned)
        };
        assert_eq!(otlp(&["--otlp-endpoint", ""]), None);
        assert_eq!(otlp(&[]), None);
        assert_eq!(
            otlp(&["--otlp-endpoint", "http://collector:4317"]).as_deref(),
            Some("http://collector:4317")
        );
    }

    #[test]
    fn the_defaults_work_for_local_use() {
        let s = parse(&[]);
        assert!(s.server.limits.limits().is_ok());
        assert!(
            s.auth
                .verifier(s.server.listen_on(7101).ip().is_loopback())
                .is_ok()
        );
        assert!(s.outbox.policy().is_ok());
        let kept = s.outbox.retention().expect("retention");
        assert_eq!(kept.request_ids, Duration::from_secs(7 * 86_400));
        let db = s.database.options("intake").expect("options");
        assert!(
            db.url.starts_with("sqlite://") && db.url.contains("intake.db"),
            "{}",
            db.url
        );
    }

    #[test]
    fn a_reachable_server_needs_a_real_key() {
        let s = parse(&["--listen", "0.0.0.0:7101"]);
        let err = s.auth.verifier(false).expect_err("no key");
        assert!(
            err.to_string().contains("PROCEDO_JWT_PUBLIC_KEY_FILE"),
            "{err}"
        );
        let short = parse(&["--jwt-secret", "short"]);
        let err = short.auth.verifier(true).expect_err("short secret");
        assert!(err.to_string().contains("PROCEDO_JWT_SECRET"), "{err}");
    }

    #[test]
    fn the_development_secret_is_refused_on_a_reachable_address() {
        let s = parse(&["--jwt-secret", DEV_JWT_SECRET]);
        assert!(s.auth.verifier(true).is_ok());
        let err = s.auth.verifier(false).expect_err("reachable");
        assert!(err.to_string().contains("development secret"), "{err}");
    }

    #[test]
    fn peers_are_called_with_the_service_token_or_minted_tokens() {
        use crate::auth::ServiceCredentials;
        let token = parse(&["--service-token", "abc"])
            .auth
            .service_credentials("intake", false);
        assert!(matches!(token, Some(ServiceCredentials::Token(t)) if t == "abc"));
        let local = parse(&[]).auth.service_credentials("intake", true);
        assert!(matches!(local, Some(ServiceCredentials::Minted { .. })));
        let keys_only = parse(&["--jwks-file", "/dev/null"])
            .auth
            .service_credentials("intake", false);
        assert!(keys_only.is_none(), "a public key cannot mint tokens");
    }

    #[test]
    fn each_bad_setting_is_named() {
        let err = parse(&["--concurrency-limit", "0"])
            .server
            .limits
            .limits()
            .expect_err("zero");
        assert!(err.to_string().contains("PROCEDO_CONCURRENCY_LIMIT"));
        let err = parse(&["--database-url", "mysql://x"])
            .database
            .options("intake")
            .expect_err("mysql");
        assert!(
            format!("{err:#}").contains("PROCEDO_DATABASE_URL"),
            "{err:#}"
        );
        let err = parse(&["--outbox-retry-base", "10m", "--outbox-retry-max", "1m"])
            .outbox
            .policy()
            .expect_err("base above max");
        assert!(err.to_string().contains("PROCEDO_OUTBOX_RETRY_BASE"));
        let err = parse(&["--inbox-retention", "5m"])
            .outbox
            .retention()
            .expect_err("too short to stop a redelivery");
        assert!(err.to_string().contains("PROCEDO_INBOX_RETENTION"));
        assert!(Settings::try_parse_from(["test", "--request-timeout", "soon"]).is_err());
    }
}
