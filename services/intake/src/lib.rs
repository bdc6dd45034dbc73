//! Procedo's intake service: customer inquiries (§2.1), business
//! applications with their completeness check, preliminary review and
//! ledger (§2.2), and customer notifications on every status change
//! (§5.2.1).
//!
//! # Layout
//!
//! - [`api`]: the tonic handlers, one module per area of the procedure.
//! - [`domain`]: the state machines and rules, pure and unit-tested.
//! - [`store`]: every SQL statement, for SQLite and PostgreSQL alike.
//! - [`webhook`]: delivery of customer notifications.
//! - [`config`]: intake's settings; [`Intake`] wires it all to a server.

pub mod api;
pub mod config;
pub mod domain;
pub mod error;
pub mod store;
pub mod webhook;

use procedo_platform::auth::{AuthInterceptor, ServiceCredentials, Verifier};
use procedo_platform::config::Peer;
use procedo_platform::db::{Database, Migrations, Script};
use procedo_platform::outbox::{self, Relay, RetryPolicy};
use procedo_platform::server::Limits;
use procedo_platform::shutdown::Shutdown;
use procedo_proto::common::event_sink_service_server::EventSinkServiceServer;
use procedo_proto::intake::intake_service_server::IntakeServiceServer;
use tonic::service::RoutesBuilder;
use tonic_health::server::HealthReporter;

use crate::api::{CUSTOMER, EventSink, IntakeApi};
use crate::domain::inquiry::ResponseLimits;

/// The service name: the SQLite file, the PostgreSQL schema, the traces.
pub const SERVICE: &str = "intake";

/// Intake's migrations for each backend.
pub const MIGRATIONS: Migrations = Migrations {
    sqlite: &[
        Script {
            version: 1,
            description: "intake",
            sql: include_str!("../migrations/sqlite/0001_intake.sql"),
        },
        Script {
            version: 2,
            description: "process",
            sql: include_str!("../migrations/sqlite/0002_process.sql"),
        },
    ],
    postgres: &[
        Script {
            version: 1,
            description: "intake",
            sql: include_str!("../migrations/postgres/0001_intake.sql"),
        },
        Script {
            version: 2,
            description: "process",
            sql: include_str!("../migrations/postgres/0002_process.sql"),
        },
    ],
};

/// How intake runs, beyond its database.
#[derive(Debug, Clone)]
pub struct Settings {
    pub response_limits: ResponseLimits,
    pub webhook_url: Option<String>,
    /// Signs webhook requests (HMAC-SHA256) when set.
    pub webhook_secret: Option<String>,
    pub retry: RetryPolicy,
    /// Peers receiving intake's events ("workflow" starts the processes of
    /// accepted applications; "audit" is compliance).
    pub peers: Vec<Peer>,
    /// How to authenticate to the peers (needed only when there are any).
    pub credentials: Option<ServiceCredentials>,
}

/// A running intake: its handlers and its delivery loops.
#[derive(Debug)]
pub struct Intake {
    api: IntakeApi,
    sink: EventSink,
}

impl Intake {
    /// Starts the notification relay (when a webhook is configured) and the
    /// relays to the peers, and builds the handlers. The relays stop on
    /// `shutdown`.
    pub fn start(db: Database, settings: Settings, shutdown: Shutdown) -> anyhow::Result<Intake> {
        let mut wake = outbox::start_peer_relays(
            &db,
            &settings.peers,
            settings.credentials.as_ref(),
            settings.retry,
            &shutdown,
        )?;
        if let Some(url) = &settings.webhook_url {
            let webhook = webhook::Webhook::new(
                url,
                settings.retry.timeout,
                settings.webhook_secret.as_deref(),
            )?;
            let relay = Relay::new(db.clone(), CUSTOMER, webhook, settings.retry);
            wake.push(relay.waker());
            tokio::spawn(relay.run(shutdown.wait()));
        }
        let api = IntakeApi::new(db, settings.response_limits, wake);
        Ok(Intake {
            sink: EventSink::new(api.mutations().clone()),
            api,
        })
    }

    /// Adds intake's services, behind authentication, to `routes`.
    pub fn add_routes(&self, routes: &mut RoutesBuilder, verifier: &Verifier, limits: &Limits) {
        let auth = AuthInterceptor::new(verifier.clone());
        let intake = IntakeServiceServer::new(self.api.clone())
            .max_decoding_message_size(limits.max_message_bytes)
            .max_encoding_message_size(limits.max_message_bytes);
        let sink = EventSinkServiceServer::new(self.sink.clone())
            .max_decoding_message_size(limits.max_message_bytes);
        routes
            .add_service(tonic::service::interceptor::InterceptedService::new(
                intake,
                auth.clone(),
            ))
            .add_service(tonic::service::interceptor::InterceptedService::new(
                sink, auth,
            ));
    }

    /// Marks intake serving in the health service.
    pub async fn report_serving(reporter: &HealthReporter) {
        reporter
            .set_serving::<IntakeServiceServer<IntakeApi>>()
            .await;
    }
}
