//! Procedo's compliance service (regulation §1.3.4, §5.2.3, §6): the
//! verifiable audit log of every service's changes, inspections and
//! rectification to closure, regulatory filings.
//!
//! # Layout
//!
//! - [`api`]: the tonic handlers: authenticate, check the request into
//!   domain values, call, convert.
//! - [`app`]: the use cases, each in its own transaction.
//! - [`domain`]: the audit log's entries, Merkle tree, signed checkpoints
//!   and its check; pure and unit-tested.
//! - [`store`]: every SQL statement, for SQLite and PostgreSQL alike.
//! - [`sources`]: the services inspections sample from, over gRPC.
//! - [`config`]: the service's settings; [`ComplianceService`] is the
//!   service as the platform's runner starts it.

pub mod api;
pub mod app;
pub mod config;
pub mod domain;
pub mod sources;
pub mod store;

use std::sync::Arc;

use procedo_platform::calendars::Recompute;
use procedo_platform::db::Migrations;
use procedo_platform::error::Error;
use procedo_platform::inbox::Events;
use procedo_platform::service::{Context, Routes, Service};
use procedo_proto::common::Event;
use procedo_proto::compliance::assessment_service_server::AssessmentServiceServer;
use procedo_proto::compliance::audit_log_service_server::AuditLogServiceServer;
use procedo_proto::compliance::directory_service_server::DirectoryServiceServer;
use procedo_proto::compliance::filing_service_server::FilingServiceServer;
use procedo_proto::compliance::inspection_service_server::InspectionServiceServer;
use procedo_proto::compliance::policy_service_server::PolicyServiceServer;
use procedo_proto::compliance::rectification_service_server::RectificationServiceServer;
use procedo_proto::compliance::training_service_server::TrainingServiceServer;
use procedo_proto::events;
use sqlx::AnyConnection;

use crate::api::{
    AssessmentApi, AuditLogApi, DirectoryApi, FilingApi, InspectionApi, PolicyApi,
    RectificationApi, TrainingApi,
};
use crate::app::events::OwnRecords;
use crate::app::{App, LogKey};
use crate::config::ComplianceArgs;
use crate::sources::Sources;

/// A running compliance service: its handlers.
#[derive(Debug)]
pub struct ComplianceService {
    app: App,
}

/// The events compliance follows: every service's audit records, appended
/// to the log in the transaction that records them as received (so a
/// redelivery appends nothing), and the reports the automatic checks read
/// (overdue tasks, inquiries and applications, approvals, loans).
#[derive(Debug, Clone)]
pub struct ComplianceEvents {
    app: App,
}

impl Events for ComplianceEvents {
    type Applied = ();

    async fn apply(&self, tx: &mut AnyConnection, event: &Event) -> Result<(), Error> {
        if let Some(actor) = &event.actor {
            self.app.seen(tx, &[actor]).await?;
        }
        if event.r#type == events::AUDIT {
            self.app.append(tx, &[event]).await?;
        } else if app::facts::follows(&event.r#type) {
            app::facts::keep(tx, event).await?;
        } else {
            tracing::debug!(event.type = %event.r#type, "an event the compliance service does not follow");
        }
        Ok(())
    }

    fn committed(&self, (): ()) {}

    fn check(&self, event: &Event) -> Result<(), Error> {
        if event.r#type == events::AUDIT {
            app::new_entry(event)?;
        } else if app::facts::follows(&event.r#type) {
            app::facts::check(event)?;
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
        let actors: Vec<&procedo_proto::common::Actor> =
            events.iter().filter_map(|e| e.actor.as_ref()).collect();
        self.app.seen(tx, &actors).await?;
        self.app.append(tx, &audit).await?;
        for event in events.iter().filter(|e| app::facts::follows(&e.r#type)) {
            app::facts::keep(tx, event).await?;
        }
        Ok(vec![(); events.len()])
    }
}

impl Service for ComplianceService {
    const NAME: &'static str = "compliance";
    const PORT: u16 = 7104;
    const ABOUT: &'static str = "Procedo compliance: the verifiable audit log, inspections and rectification, regulatory filings";
    const MIGRATIONS: Migrations = procedo_platform::migrations![
        (1, "audit log", "0001_audit.sql"),
        (2, "inspections and rectification", "0002_inspections.sql"),
        (3, "regulatory filings", "0003_filings.sql"),
        (4, "facts and assessment", "0004_assessment.sql"),
        (5, "directory", "0005_directory.sql"),
        (6, "training and policies", "0006_training.sql"),
    ];
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
        // Policies name document versions the publisher may see.
        let documents = args
            .document_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
            .map(|url| {
                procedo_platform::documents::Documents::new(url, args.sample_timeout, ctx.dialer())
            })
            .transpose()?;
        let sources = Sources {
            intake: sources::connect(
                args.intake_url.as_deref(),
                "PROCEDO_COMPLIANCE_INTAKE_URL",
                args.sample_timeout,
                ctx.dialer(),
            )?,
            workflow: sources::connect(
                args.workflow_url.as_deref(),
                "PROCEDO_COMPLIANCE_WORKFLOW_URL",
                args.sample_timeout,
                ctx.dialer(),
            )?,
            document: sources::connect(
                args.document_url.as_deref(),
                "PROCEDO_COMPLIANCE_DOCUMENT_URL",
                args.sample_timeout,
                ctx.dialer(),
            )?,
            timeout: args.sample_timeout,
        };
        let app = App::new(
            ctx.mutations(),
            ctx.clock(),
            key,
            ctx.calendars(),
            sources,
            ctx.time_zone(),
            documents,
        );
        // Compliance's own changes reach its log the way every service's
        // do: through its outbox.
        ctx.relay(
            procedo_platform::outbox::AUDIT,
            OwnRecords { app: app.clone() },
        );
        let sweeper = app.clone();
        let sweep = args.deadline_sweep;
        ctx.spawn("deadline timer", move |stop| {
            let app = sweeper.clone();
            async move {
                loop {
                    tokio::select! {
                        () = stop.clone().wait() => return,
                        () = tokio::time::sleep(sweep) => {}
                    }
                    if let Err(e) = app.sweep_notices().await {
                        tracing::warn!(error = ?e, "looking for overdue notices failed; trying again");
                    }
                    if let Err(e) = app.sweep_filings().await {
                        tracing::warn!(error = ?e, "looking after filings failed; trying again");
                    }
                    if let Err(e) = app.sweep_publications().await {
                        tracing::warn!(error = ?e, "reminding late readers failed; trying again");
                    }
                }
            }
        });
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
        routes.add(InspectionServiceServer::new(InspectionApi::new(
            self.app.clone(),
        )));
        routes.add(RectificationServiceServer::new(RectificationApi::new(
            self.app.clone(),
        )));
        routes.add(FilingServiceServer::new(FilingApi::new(self.app.clone())));
        routes.add(AssessmentServiceServer::new(AssessmentApi::new(
            self.app.clone(),
        )));
        routes.add(DirectoryServiceServer::new(DirectoryApi::new(
            self.app.clone(),
        )));
        routes.add(TrainingServiceServer::new(TrainingApi::new(
            self.app.clone(),
        )));
        routes.add(PolicyServiceServer::new(PolicyApi::new(self.app.clone())));
    }

    fn events(&self) -> ComplianceEvents {
        ComplianceEvents {
            app: self.app.clone(),
        }
    }

    fn deadlines(&self) -> Arc<dyn Recompute> {
        Arc::new(self.app.clone())
    }
}

/// Whether `origin` can be a note's first line and key name.
fn valid_origin(origin: &str) -> bool {
    !origin.is_empty()
        && !origin
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
}
