//! The document service's own settings, beside the platform's.

use std::path::PathBuf;
use std::time::Duration;

/// Two GiB.
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;

#[derive(Debug, Clone, clap::Args)]
pub struct DocumentArgs {
    /// Where the documents' content is kept, each content once under its
    /// SHA-256: a folder (default `document-content` in the data folder,
    /// PROCEDO_DATA_DIR; one replica) or an S3-compatible bucket,
    /// `s3://bucket/prefix`, which several replicas share. The bucket's
    /// region, credentials and other settings come from the usual AWS
    /// variables (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    /// AWS_SESSION_TOKEN…).
    #[arg(long = "document-store", env = "PROCEDO_DOCUMENT_STORE")]
    pub store: Option<String>,

    /// The S3-compatible server to use instead of AWS (MinIO, Ceph, a
    /// cloud's S3 endpoint), for example `http://minio:9000`. An `http://`
    /// server is spoken to in plaintext.
    #[arg(long = "document-s3-endpoint", env = "AWS_ENDPOINT_URL")]
    pub s3_endpoint: Option<String>,

    /// The S3 access key id (usually given as AWS_ACCESS_KEY_ID).
    #[arg(
        long = "document-s3-access-key-id",
        env = "AWS_ACCESS_KEY_ID",
        hide_env_values = true
    )]
    pub s3_access_key_id: Option<String>,

    /// The S3 secret access key (usually given as AWS_SECRET_ACCESS_KEY).
    #[arg(
        long = "document-s3-secret-access-key",
        env = "AWS_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    pub s3_secret_access_key: Option<String>,

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

    /// How often content no version refers to (left by an upload whose
    /// version was never recorded, or by an interrupted process) is looked
    /// for and removed.
    #[arg(long = "document-content-sweep", env = "PROCEDO_DOCUMENT_CONTENT_SWEEP", default_value = "1h", value_parser = humantime::parse_duration)]
    pub content_sweep: Duration,

    /// How long content stays untouched before the sweep may remove it:
    /// longer than any upload takes to be recorded.
    #[arg(long = "document-content-grace", env = "PROCEDO_DOCUMENT_CONTENT_GRACE", default_value = "1h", value_parser = humantime::parse_duration)]
    pub content_grace: Duration,
}
