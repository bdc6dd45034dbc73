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
//! - [`config`]: workflow's settings; [`Workflow`] is the service as the
//!   platform's runner starts it.

pub mod api;
pub mod config;
pub mod deadlines;
pub mod domain;
pub mod store;

use procedo_platform::db::{Migrations, Script};
use procedo_platform::service::{Context, Routes, Service};
use procedo_platform::time;
use procedo_proto::workflow::workflow_service_server::WorkflowServiceServer;

use crate::api::{EventSink, WorkflowApi};
use crate::config::WorkflowArgs;

/// Workflow's migrations for each backend.
const MIGRATIONS: Migrations = Migrations {
    sqlite: &[
        Script {
            version: 1,
            description: "workflow",
            sql: include_str!("../migrations/sqlite/0001_workflow.sql"),
        },
        Script {
            version: 2,
            description: "history seq",
            sql: include_str!("../migrations/sqlite/0002_history_seq.sql"),
        },
    ],
    postgres: &[
        Script {
            version: 1,
            description: "workflow",
            sql: include_str!("../migrations/postgres/0001_workflow.sql"),
        },
        Script {
            version: 2,
            description: "history seq",
            sql: include_str!("../migrations/postgres/0002_history_seq.sql"),
        },
    ],
};

/// A running workflow service: its handlers.
#[derive(Debug)]
pub struct Workflow {
    api: WorkflowApi,
}

impl Service for Workflow {
    const NAME: &'static str = "workflow";
    const ABOUT: &'static str =
        "Procedo workflow: processes, approvals, tasks, deadlines and meetings";
    const MIGRATIONS: Migrations = MIGRATIONS;
    type Args = WorkflowArgs;
    type Events = EventSink;

    /// Deploys the built-in standard process (a new version only when it
    /// changed) and starts the deadline timer.
    async fn build(ctx: &mut Context, args: WorkflowArgs) -> anyhow::Result<Workflow> {
        let api = WorkflowApi::new(ctx.mutations());
        let mut tx = ctx.db().begin().await?;
        api::deploy_definition(
            &mut tx,
            domain::standard::definition(),
            &deadlines::timer_actor(),
            time::now(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("deploying the standard process: {e}"))?;
        tx.commit().await?;
        let timer = api.clone();
        ctx.spawn(move |stop| deadlines::run(timer, args.deadline_sweep, stop));
        Ok(Workflow { api })
    }

    fn routes(&self, routes: &mut Routes) {
        let max = routes.max_message_bytes();
        routes.add(
            WorkflowServiceServer::new(self.api.clone())
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        );
    }

    fn events(&self) -> EventSink {
        EventSink::new(self.api.clone())
    }
}
