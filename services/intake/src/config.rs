//! Intake's own settings, beside the platform's.

use procedo_platform::config::{AuthArgs, DatabaseArgs, OutboxArgs, ServerArgs, TelemetryArgs};

use crate::domain::inquiry::{DEFAULT_RESPONSE_LIMITS, ResponseLimits};

#[derive(Debug, Clone, clap::Args)]
pub struct IntakeArgs {
    /// Time allowed for the first response to an inquiry, per channel.
    #[arg(long, env = "PROCEDO_INTAKE_RESPONSE_LIMITS", default_value = DEFAULT_RESPONSE_LIMITS, value_parser = ResponseLimits::parse)]
    pub response_limits: ResponseLimits,

    /// URL that receives customer notifications as JSON POSTs; unset keeps
    /// them undelivered (listable) until one is configured.
    #[arg(long, env = "PROCEDO_INTAKE_WEBHOOK_URL")]
    pub webhook_url: Option<String>,

    /// Secret the webhook requests are signed with (HMAC-SHA256 in
    /// `x-procedo-signature`); unsigned when unset.
    #[arg(long, env = "PROCEDO_INTAKE_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
}

impl IntakeArgs {
    /// Intake's settings; an empty webhook URL (as compose files pass for
    /// "unset") means none.
    pub fn settings(
        &self,
        outbox: &OutboxArgs,
        credentials: Option<procedo_platform::auth::ServiceCredentials>,
    ) -> anyhow::Result<crate::Settings> {
        Ok(crate::Settings {
            response_limits: self.response_limits.clone(),
            webhook_url: self
                .webhook_url
                .clone()
                .filter(|url| !url.trim().is_empty()),
            webhook_secret: self.webhook_secret.clone().filter(|s| !s.is_empty()),
            retry: outbox.policy()?,
            peers: outbox.peers.clone(),
            credentials,
        })
    }
}

/// Everything the standalone `procedo-intake` binary reads.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "procedo-intake",
    version,
    about = "Procedo intake: inquiries, applications and the intake ledger"
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
    pub intake: IntakeArgs,
}
