//! `procedo token`: tokens signed with the development secret (or
//! `PROCEDO_JWT_SECRET`), for `procedo dev` and local testing.

use std::time::Duration;

use procedo_platform::auth::DevSigner;
use procedo_platform::config::DEV_JWT_SECRET;
use procedo_platform::identity::{Claims, Clearance, Role};

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// Role to grant; repeat for several (intake_clerk, department_head,
    /// reviewer, approver, executor, acceptor, archivist, auditor, trainer,
    /// admin, service).
    #[arg(long = "role", required = true, value_parser = parse_role)]
    pub roles: Vec<Role>,

    /// Department code of the holder.
    #[arg(long, default_value = "ops")]
    pub department: String,

    /// Subject (user id); defaults to the first role's name.
    #[arg(long)]
    pub subject: Option<String>,

    /// Display name.
    #[arg(long)]
    pub name: Option<String>,

    /// Job title.
    #[arg(long, default_value = "")]
    pub title: String,

    /// Approval level for the authorisation matrix.
    #[arg(long, default_value_t = 0)]
    pub level: i32,

    /// Clearance: public, internal, confidential or secret.
    #[arg(long, default_value = "internal", value_parser = parse_clearance)]
    pub clearance: Clearance,

    /// How long the token is valid.
    #[arg(long, default_value = "12h", value_parser = humantime::parse_duration)]
    pub ttl: Duration,

    /// Signing secret; the development secret when unset.
    #[arg(long, env = "PROCEDO_JWT_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        let all: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role {s:?}; roles: {}", all.join(", "))
    })
}

fn parse_clearance(s: &str) -> Result<Clearance, String> {
    Clearance::parse(s)
        .ok_or_else(|| format!("unknown clearance {s:?}; public, internal, confidential or secret"))
}

/// The token these arguments describe.
pub fn mint(args: &TokenArgs) -> anyhow::Result<String> {
    let secret = args.secret.as_deref().unwrap_or(DEV_JWT_SECRET);
    let now = procedo_platform::time::now().max(0).unsigned_abs() / 1000;
    let subject = args
        .subject
        .clone()
        .unwrap_or_else(|| format!("{}-user", args.roles[0]));
    let claims = Claims {
        name: args.name.clone().unwrap_or_else(|| subject.clone()),
        sub: subject,
        title: args.title.clone(),
        department: args.department.clone(),
        roles: args.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        approval_level: args.level,
        clearance: args.clearance,
        exp: now + args.ttl.as_secs(),
        iat: now,
        iss: None,
        aud: None,
    };
    DevSigner::new(secret.as_bytes()).sign(&claims)
}

pub fn run(args: &TokenArgs) -> anyhow::Result<()> {
    crate::out!("{}", mint(args)?);
    Ok(())
}
