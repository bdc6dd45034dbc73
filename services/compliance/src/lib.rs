//! Procedo's compliance service (regulation §1.3.4, §5.2.3, §6): the
//! verifiable audit log of every service's changes.
//!
//! # Layout
//!
//! - [`api`]: the tonic handlers: authenticate, check the request into
//!   domain values, call, convert.
//! - [`app`]: the use cases, each in its own transaction.
//! - [`domain`]: the audit log's entries, Merkle tree, signed checkpoints
//!   and its check; pure and unit-tested.
//! - [`store`]: every SQL statement, for SQLite and PostgreSQL alike.
//! - [`config`]: the service's settings; [`ComplianceService`] is the
//!   service as the platform's runner starts it.

pub mod api;
pub mod app;
pub mod config;
pub mod domain;
pub mod store;

use std::sync::Arc;

use procedo_platform::calendars::{NoDeadlines, Recompute};
use procedo_platform::db::Migrations;
use procedo_platform::error::Error;
use procedo_platform::inbox::Events;
use procedo_platform::service::{Context, Routes, Service};
use procedo_proto::common::Event;
use procedo_proto::compliance::audit_log_service_server::AuditLogServiceServer;
use procedo_proto::events;
use sqlx::AnyConnection;

use crate::api::AuditLogApi;
use crate::app::{App, LogKey};
use crate::config::ComplianceArgs;

/// A running compliance service: its handlers.
#[derive(Debug)]
pub struct ComplianceService {
    app: App,
}

/// The events compliance follows: every service's audit records, appended
/// to the log in the transaction that records them as received (so a
/// redelivery appends nothing).
#[derive(Debug, Clone)]
pub struct ComplianceEvents {
    app: App,
}

impl Events for ComplianceEvents {
    type Applied = ();

    async fn apply(&self, tx: &mut AnyConnection, event: &Event) -> Result<(), Error> {
        if event.r#type == events::AUDIT {
            self.app.append(tx, &[event]).await?;
        } else {
            tracing::debug!(event.type = %event.r#type, "an event the compliance service does not follow");
        }
        Ok(())
    }

    fn committed(&self, (): ()) {}

    fn check(&self, event: &Event) -> Result<(), Error> {
        if event.r#type == events::AUDIT {
            app::new_entry(event)?;
        }
        Ok(())
    }

    /// A batch's audit records go into the log in one append.
    async fn apply_batch(
        &self,
        tx: &mut AnyConnection,
        events: &[&Event],
    ) -> Result<Vec<()>, Error> {
        let audit: Vec<&Event> = events
            .iter()
            .copied()
            .filter(|e| e.r#type == events::AUDIT)
            .collect();
        self.app.append(tx, &audit).await?;
        Ok(vec![(); events.len()])
    }
}

impl Service for ComplianceService {
    const NAME: &'static str = "compliance";
    const ABOUT: &'static str = "Procedo compliance: the verifiable audit log";
    const MIGRATIONS: Migrations =
        procedo_platform::migrations![(1, "audit log", "0001_audit.sql")];
    type Args = ComplianceArgs;
    type Events = ComplianceEvents;

    async fn build(ctx: &mut Context, args: ComplianceArgs) -> anyhow::Result<ComplianceService> {
        anyhow::ensure!(
            valid_origin(&args.origin),
            "PROCEDO_AUDIT_ORIGIN {:?} must be non-empty, without spaces, '+' or line breaks \
             (e.g. procedo.example.com/audit)",
            args.origin
        );
        let key_file = args
            .signing_key_file
            .clone()
            .unwrap_or_else(|| ctx.data_dir().join("audit-signing-key.pem"));
        let signing =
            procedo_platform::keyfile::load_or_create(&key_file, "PROCEDO_AUDIT_SIGNING_KEY_FILE")?;
        let key = LogKey {
            origin: args.origin.clone(),
            signing,
        };
        let note_key = key.note_key();
        store::register_key(
            ctx.db(),
            &note_key.id_hex(),
            &note_key.verifier(),
            procedo_platform::time::now(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("publishing the audit log's key: {e}"))?;
        let app = App::new(ctx.mutations(), ctx.clock(), key);
        let timer = app.clone();
        let every = args.checkpoint_interval;
        ctx.spawn("checkpoints", move |stop| {
            let app = timer.clone();
            async move {
                loop {
                    tokio::select! {
                        () = stop.clone().wait() => return,
                        () = tokio::time::sleep(every) => {}
                    }
                    if let Err(e) = app.checkpoint_if_grown().await {
                        tracing::warn!(error = ?e, "signing a checkpoint failed; trying again");
                    }
                }
            }
        });
        Ok(ComplianceService { app })
    }

    fn routes(&self, routes: &mut Routes) {
        routes.add(AuditLogServiceServer::new(AuditLogApi::new(
            self.app.clone(),
        )));
    }

    fn events(&self) -> ComplianceEvents {
        ComplianceEvents {
            app: self.app.clone(),
        }
    }

    fn deadlines(&self) -> Arc<dyn Recompute> {
        Arc::new(NoDeadlines)
    }
}

/// Whether `origin` can be a note's first line and key name.
fn valid_origin(origin: &str) -> bool {
    !origin.is_empty()
        && !origin
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
}
