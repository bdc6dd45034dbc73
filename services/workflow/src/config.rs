//! Workflow's own settings, beside the platform's.

use std::time::Duration;

use procedo_platform::config::{AuthArgs, DatabaseArgs, OutboxArgs, ServerArgs, TelemetryArgs};

#[derive(Debug, Clone, clap::Args)]
pub struct WorkflowArgs {
    /// How often the deadline timer looks for overdue tasks.
    #[arg(long, env = "PROCEDO_WORKFLOW_DEADLINE_SWEEP", default_value = "30s", value_parser = humantime::parse_duration)]
    pub deadline_sweep: Duration,
}

/// Everything the standalone `procedo-workflow` binary reads.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "procedo-workflow",
    version,
    about = "Procedo workflow: processes, approvals, tasks, deadlines and meetings"
)]
pub struct Config {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
    #[command(flatten)]
    pub outbox: OutboxArgs,
    #[command(flatten)]
    pub workflow: WorkflowArgs,
}
