//! Procedo's workflow service (regulation §3 and §5.1): validated process
//! definitions, the standard five-stage business process, the
//! authorisation matrix, instances and tasks with deadlines and escalation,
//! and department meetings.
//!
//! # Layout
//!
//! - [`api`]: the tonic handlers, one module per area; `api::progress`
//!   moves instances through their steps.
//! - [`domain`]: definitions and their validation, the matrix, the engine,
//!   the standard process, diagrams — pure and unit-tested.
//! - [`store`]: every SQL statement, for SQLite and PostgreSQL alike.
//! - [`deadlines`]: the overdue timer.
//! - [`config`]: workflow's settings; [`Workflow`] wires it all to a server.

pub mod api;
pub mod config;
pub mod deadlines;
pub mod domain;
pub mod error;
pub mod store;

use std::time::Duration;

use procedo_platform::auth::{AuthInterceptor, ServiceCredentials, Verifier};
use procedo_platform::config::Peer;
use procedo_platform::db::{Database, Migrations, Script};
use procedo_platform::outbox::{self, RetryPolicy};
use procedo_platform::server::Limits;
use procedo_platform::shutdown::Shutdown;
use procedo_platform::time;
use procedo_proto::common::event_sink_service_server::EventSinkServiceServer;
use procedo_proto::workflow::workflow_service_server::WorkflowServiceServer;
use tonic::service::RoutesBuilder;
use tonic::service::interceptor::InterceptedService;
use tonic_health::server::HealthReporter;

use crate::api::{EventSink, WorkflowApi};

/// The service name: the SQLite file, the PostgreSQL schema, the traces.
pub const SERVICE: &str = "workflow";

/// Workflow's migrations for each backend.
pub const MIGRATIONS: Migrations = Migrations {
    sqlite: &[Script {
        version: 1,
        description: "workflow",
        sql: include_str!("../migrations/sqlite/0001_workflow.sql"),
    }],
    postgres: &[Script {
        version: 1,
        description: "workflow",
        sql: include_str!("../migrations/postgres/0001_workflow.sql"),
    }],
};

/// How workflow runs, beyond its database.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Peers receiving workflow's events (the services that start
    /// instances, by name; "audit" for compliance).
    pub peers: Vec<Peer>,
    /// How to authenticate to the peers (needed only when there are any).
    pub credentials: Option<ServiceCredentials>,
    pub retry: RetryPolicy,
    pub deadline_sweep: Duration,
}

/// A running workflow service: its handlers and its background loops.
#[derive(Debug)]
pub struct Workflow {
    api: WorkflowApi,
    sink: EventSink,
}

impl Workflow {
    /// Deploys the built-in standard process (a new version only when it
    /// changed), starts the relays to the peers and the deadline timer, and
    /// builds the handlers. Background work stops on `shutdown`.
    pub async fn start(
        db: Database,
        settings: Settings,
        shutdown: Shutdown,
    ) -> anyhow::Result<Workflow> {
        let wake = outbox::start_peer_relays(
            &db,
            &settings.peers,
            settings.credentials.as_ref(),
            settings.retry,
            &shutdown,
        )?;
        let api = WorkflowApi::new(db.clone(), wake);
        let mut tx = db.begin().await?;
        api::deploy_definition(
            &mut tx,
            domain::standard::definition(),
            &deadlines::timer_actor(),
            time::now(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("deploying the standard process: {e}"))?;
        tx.commit().await?;
        tokio::spawn(deadlines::run(
            api.clone(),
            db,
            settings.deadline_sweep,
            shutdown,
        ));
        Ok(Workflow {
            sink: EventSink::new(api.clone()),
            api,
        })
    }

    /// Adds workflow's services, behind authentication, to `routes`.
    pub fn add_routes(&self, routes: &mut RoutesBuilder, verifier: &Verifier, limits: &Limits) {
        let auth = AuthInterceptor::new(verifier.clone());
        let workflow = WorkflowServiceServer::new(self.api.clone())
            .max_decoding_message_size(limits.max_message_bytes)
            .max_encoding_message_size(limits.max_message_bytes);
        let sink = EventSinkServiceServer::new(self.sink.clone())
            .max_decoding_message_size(limits.max_message_bytes);
        routes
            .add_service(InterceptedService::new(workflow, auth.clone()))
            .add_service(InterceptedService::new(sink, auth));
    }

    /// Marks workflow serving in the health service.
    pub async fn report_serving(reporter: &HealthReporter) {
        reporter
            .set_serving::<WorkflowServiceServer<WorkflowApi>>()
            .await;
    }
}
