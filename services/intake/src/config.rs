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
