//! The document service's own settings, beside the platform's.

use std::path::PathBuf;
use std::time::Duration;

/// Two GiB.
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;

#[derive(Debug, Clone, clap::Args)]
pub struct DocumentArgs {
    /// Folder the documents' content is kept in, each content once under
    /// its SHA-256. Default: `document-content` in the data folder
    /// (PROCEDO_DATA_DIR).
    #[arg(long = "document-store", env = "PROCEDO_DOCUMENT_STORE")]
    pub store: Option<PathBuf>,

    /// The largest version accepted, in bytes; a larger upload is refused
    /// with RESOURCE_EXHAUSTED and stores nothing.
    #[arg(long = "document-max-bytes", env = "PROCEDO_DOCUMENT_MAX_BYTES", default_value_t = DEFAULT_MAX_BYTES)]
    pub max_bytes: u64,

    /// The Ed25519 key signatures are made with (PKCS#8 PEM). Made when the
    /// file does not exist; default `document-signing-key.pem` in the data
    /// folder. Every key used is kept published, so signatures made with
    /// an earlier one stay verifiable after it is replaced.
    #[arg(
        long = "document-signing-key-file",
        env = "PROCEDO_DOCUMENT_SIGNING_KEY_FILE"
    )]
    pub signing_key_file: Option<PathBuf>,

    /// How often loans that ran out are looked for (and escalated once).
    #[arg(long = "document-loan-sweep", env = "PROCEDO_DOCUMENT_LOAN_SWEEP", default_value = "30s", value_parser = humantime::parse_duration)]
    pub loan_sweep: Duration,
}
