//! Workflow's own settings, beside the platform's.

use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct WorkflowArgs {
    /// How often the deadline timer looks for overdue tasks.
    #[arg(long, env = "PROCEDO_WORKFLOW_DEADLINE_SWEEP", default_value = "30s", value_parser = humantime::parse_duration)]
    pub deadline_sweep: Duration,

    /// The document service (e.g. http://document:7103): when set, a step
    /// that needs a document checks the reference exists and is visible to
    /// the completer, and passing acceptance checks the report is signed by
    /// the acceptor. Unset: references are taken as given.
    #[arg(
        id = "workflow_document_url",
        long = "workflow-document-url",
        env = "PROCEDO_WORKFLOW_DOCUMENT_URL"
    )]
    pub document_url: Option<String>,

    /// The longest wait for the document service, then UNAVAILABLE.
    #[arg(id = "workflow_document_timeout", long = "workflow-document-timeout", env = "PROCEDO_WORKFLOW_DOCUMENT_TIMEOUT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub document_timeout: Duration,
}
