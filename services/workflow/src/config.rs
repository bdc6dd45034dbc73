//! Workflow's own settings, beside the platform's.

use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct WorkflowArgs {
    /// How often the deadline timer looks for overdue tasks.
    #[arg(long, env = "PROCEDO_WORKFLOW_DEADLINE_SWEEP", default_value = "30s", value_parser = humantime::parse_duration)]
    pub deadline_sweep: Duration,
}
