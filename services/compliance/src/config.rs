//! The compliance service's own settings, beside the platform's.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct ComplianceArgs {
    /// The audit log's name: the first line of every checkpoint and the
    /// name of its signing key, by convention the company's domain and a
    /// path (C2SP tlog-checkpoint), e.g. `procedo.example.com/audit`.
    #[arg(
        id = "audit_origin",
        long = "audit-origin",
        env = "PROCEDO_AUDIT_ORIGIN",
        default_value = "procedo.local/audit"
    )]
    pub origin: String,

    /// The Ed25519 key checkpoints are signed with (PKCS#8 PEM). Made when
    /// the file does not exist; default `audit-signing-key.pem` in the
    /// data folder. Every key used stays published, so checkpoints signed
    /// with an earlier one stay verifiable after it is replaced.
    #[arg(
        id = "audit_signing_key_file",
        long = "audit-signing-key-file",
        env = "PROCEDO_AUDIT_SIGNING_KEY_FILE"
    )]
    pub signing_key_file: Option<PathBuf>,

    /// How often a checkpoint is signed when the log has grown.
    #[arg(id = "audit_checkpoint_interval", long = "audit-checkpoint-interval", env = "PROCEDO_AUDIT_CHECKPOINT_INTERVAL", default_value = "1m", value_parser = humantime::parse_duration)]
    pub checkpoint_interval: Duration,

    /// Intake (e.g. http://intake:7101): inspections sample applications
    /// from its ledger. Unset: sampling it is UNAVAILABLE.
    #[arg(
        id = "compliance_intake_url",
        long = "compliance-intake-url",
        env = "PROCEDO_COMPLIANCE_INTAKE_URL"
    )]
    pub intake_url: Option<String>,

    /// Workflow (e.g. http://workflow:7102): inspections sample process
    /// instances from it.
    #[arg(
        id = "compliance_workflow_url",
        long = "compliance-workflow-url",
        env = "PROCEDO_COMPLIANCE_WORKFLOW_URL"
    )]
    pub workflow_url: Option<String>,

    /// The document service (e.g. http://document:7103): inspections sample
    /// documents from it.
    #[arg(
        id = "compliance_document_url",
        long = "compliance-document-url",
        env = "PROCEDO_COMPLIANCE_DOCUMENT_URL"
    )]
    pub document_url: Option<String>,

    /// The longest wait for a sampled service's page, then UNAVAILABLE.
    #[arg(id = "compliance_sample_timeout", long = "compliance-sample-timeout", env = "PROCEDO_COMPLIANCE_SAMPLE_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub sample_timeout: Duration,

    /// How often the timer looks for overdue rectification notices, and
    /// generates, reminds and escalates filings.
    #[arg(id = "compliance_deadline_sweep", long = "compliance-deadline-sweep", env = "PROCEDO_COMPLIANCE_DEADLINE_SWEEP", default_value = "30s", value_parser = humantime::parse_duration)]
    pub deadline_sweep: Duration,
}
