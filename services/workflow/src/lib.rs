//! Procedo's workflow service (regulation §3 and §5.1): validated process
//! definitions, the standard five-stage business process, the
//! authorisation matrix, instances and tasks with deadlines and escalation,
//! and department meetings.
//!
//! # Layout
//!
//! - [`api`]: the tonic handlers, one module per area: authenticate, check
//!   the request into domain values, call, convert.
//! - [`app`]: the use cases — each one transaction: the engine's moves, the
//!   history, the audit records, the progress events; the API, the event
//!   sink and the deadline timer call them.
//! - [`domain`]: definitions and their validation, the matrix, the engine,
//!   tasks and who may act on or see them, meetings, the standard process,
//!   diagrams — every rule, pure and unit-tested.
//! - [`convert`]: protobuf ↔ domain, for the API and for what is stored or
//!   sent as protobuf.
//! - [`store`]: every SQL statement, for SQLite and PostgreSQL alike.
//! - [`deadlines`]: the timer that sweeps for overdue tasks.
//! - [`config`]: workflow's settings; [`Workflow`] is the service as the
//!   platform's runner starts it.

pub mod api;
pub mod app;
pub mod config;
pub mod convert;
pub mod deadlines;
pub mod domain;
pub mod store;

use std::sync::Arc;

use procedo_platform::calendars::Recompute;
use procedo_platform::db::Migrations;
use procedo_platform::service::{Context, Routes, Service};
use procedo_proto::workflow::workflow_service_server::WorkflowServiceServer;

use crate::api::{EventSink, WorkflowApi};
use crate::app::App;
use crate::config::WorkflowArgs;

/// A running workflow service: its handlers.
#[derive(Debug)]
pub struct Workflow {
    app: App,
}

impl Service for Workflow {
    const NAME: &'static str = "workflow";
    const PORT: u16 = 7102;
    const ABOUT: &'static str =
        "Procedo workflow: processes, approvals, tasks, deadlines and meetings";
    const MIGRATIONS: Migrations = procedo_platform::migrations![
        (1, "workflow", "0001_workflow.sql"),
        (2, "history seq", "0002_history_seq.sql"),
        (3, "deadlines", "0003_deadlines.sql"),
        (4, "open task indexes", "0004_open_task_indexes.sql"),
        (5, "task branches", "0005_task_branches.sql"),
        (
            6,
            "open tasks of instance",
            "0006_open_tasks_of_instance.sql"
        ),
    ];
    /// Workflow keeps the company's calendars; the other services apply
    /// the versions it sends.
    const KEEPS_CALENDARS: bool = true;
    const SAMPLES: &'static [procedo_platform::metrics::Sample] =
        &[procedo_platform::metrics::Sample {
            name: "procedo.workflow.tasks.overdue",
            description: "Open tasks past their time limit",
            sql: "SELECT COUNT(*) FROM tasks WHERE status = 'OPEN' AND due_at < $1",
        }];
    type Args = WorkflowArgs;
    type Events = EventSink;

    /// Deploys the built-in standard process (a new version only when it
    /// changed) and starts the deadline timer.
    async fn build(ctx: &mut Context, args: WorkflowArgs) -> anyhow::Result<Workflow> {
        let documents = args
            .document_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
            .map(|url| {
                procedo_platform::documents::Documents::new(
                    url,
                    args.document_timeout,
                    ctx.dialer(),
                )
            })
            .transpose()?;
        let app = App::new(ctx.mutations(), ctx.calendars(), ctx.clock(), documents);
        app.deploy_standard_process()
            .await
            .map_err(|e| anyhow::anyhow!("deploying the standard process: {e:?}"))?;
        let timer = app.clone();
        ctx.spawn("deadline timer", move |stop| {
            deadlines::run(timer.clone(), args.deadline_sweep, stop)
        });
        Ok(Workflow { app })
    }

    fn routes(&self, routes: &mut Routes) {
        let max = routes.max_message_bytes();
        routes.add(
            WorkflowServiceServer::new(WorkflowApi::new(self.app.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        );
    }

    fn events(&self) -> EventSink {
        EventSink::new(self.app.clone())
    }

    fn deadlines(&self) -> Arc<dyn Recompute> {
        Arc::new(self.app.clone())
    }
}
