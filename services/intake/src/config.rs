//! Intake's own settings, beside the platform's.

use crate::domain::inquiry::{DEFAULT_RESPONSE_LIMITS, ResponseLimits};

#[derive(Debug, Clone, clap::Args)]
pub struct IntakeArgs {
    /// Time allowed for the first response to an inquiry, per channel.
    #[arg(long, env = "PROCEDO_INTAKE_RESPONSE_LIMITS", default_value = DEFAULT_RESPONSE_LIMITS, value_parser = ResponseLimits::parse)]
    pub response_limits: ResponseLimits,

    /// URL that receives customer notifications as JSON POSTs; unset (or
    /// empty, as compose files pass for "unset") keeps them undelivered and
    /// listable until one is configured.
    #[arg(long, env = "PROCEDO_INTAKE_WEBHOOK_URL")]
    pub webhook_url: Option<String>,

    /// Secret the webhook requests are signed with (HMAC-SHA256 in
    /// `x-procedo-signature`); unsigned when unset.
    #[arg(long, env = "PROCEDO_INTAKE_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,

    /// The document service (e.g. http://document:7103): when set, a
    /// material given as a document reference must name a document the
    /// submitting caller may see. Unset: references are taken as given.
    #[arg(
        id = "intake_document_url",
        long = "intake-document-url",
        env = "PROCEDO_INTAKE_DOCUMENT_URL"
    )]
    pub document_url: Option<String>,

    /// How often inquiries and applications that ran out are looked for
    /// (and reported, once each, to the compliance service).
    #[arg(id = "intake_overdue_sweep", long = "intake-overdue-sweep", env = "PROCEDO_INTAKE_OVERDUE_SWEEP", default_value = "30s", value_parser = humantime::parse_duration)]
    pub overdue_sweep: std::time::Duration,

    /// The longest wait for the document service, then UNAVAILABLE.
    #[arg(id = "intake_document_timeout", long = "intake-document-timeout", env = "PROCEDO_INTAKE_DOCUMENT_TIMEOUT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub document_timeout: std::time::Duration,
}

impl IntakeArgs {
    /// The webhook URL, when one is set.
    pub fn webhook_url(&self) -> Option<&str> {
        self.webhook_url
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty())
    }

    /// The webhook secret, when one is set.
    pub fn webhook_secret(&self) -> Option<&str> {
        self.webhook_secret.as_deref().filter(|s| !s.is_empty())
    }
}
