//! Procedo's intake service: customer inquiries (§2.1), business
//! applications with their completeness check, preliminary review and
//! ledger (§2.2), and customer notifications on every status change
//! (§5.2.1).
//!
//! # Layout
//!
//! - [`api`]: the tonic handlers, one module per area of the procedure:
//!   authenticate, check the request into domain values, call, convert.
//! - [`app`]: the use cases — each one transaction with its history, audit
//!   record and events; the API, the event sink and background work call
//!   them.
//! - [`domain`]: the state machines and every rule, pure and unit-tested.
//! - [`store`]: every SQL statement, for SQLite and PostgreSQL alike.
//! - [`webhook`]: delivery of customer notifications.
//! - [`config`]: intake's settings; [`Intake`] is the service as the
//!   platform's runner starts it.

pub mod api;
pub mod app;
pub mod config;
pub mod domain;
pub mod store;
pub mod webhook;

use std::sync::Arc;

use procedo_platform::calendars::Recompute;
use procedo_platform::db::Migrations;
use procedo_platform::service::{Context, Routes, Service};
use procedo_proto::intake::intake_service_server::IntakeServiceServer;

use crate::api::{EventSink, IntakeApi};
use crate::app::App;
use crate::app::events::CUSTOMER;
use crate::config::IntakeArgs;

/// A running intake: its handlers.
#[derive(Debug)]
pub struct Intake {
    app: App,
}

impl Service for Intake {
    const NAME: &'static str = "intake";
    const PORT: u16 = 7101;
    const SAMPLES: &'static [procedo_platform::metrics::Sample] =
        &[procedo_platform::metrics::Sample {
            name: "procedo.intake.inquiries.overdue",
            description: "Inquiries whose response time limit has run out unanswered",
            sql: "SELECT COUNT(*) FROM inquiries WHERE response_state = 'RUNNING' \
                  AND response_due_at < $1",
        }];
    const ABOUT: &'static str = "Procedo intake: inquiries, applications and the intake ledger";
    const MIGRATIONS: Migrations = procedo_platform::migrations![
        (1, "intake", "0001_intake.sql"),
        (2, "process", "0002_process.sql"),
        (3, "shared notes", "0003_shared_notes.sql"),
        (4, "deadlines", "0004_deadlines.sql"),
        (5, "inquiry clock", "0005_inquiry_clock.sql"),
        (6, "calendars", "0006_calendars.sql"),
        (7, "overdue reports", "0007_overdue_reports.sql"),
    ];
    type Args = IntakeArgs;
    type Events = EventSink;

    /// Starts the customer notification relay when a webhook is configured
    /// (without one, notifications wait, listable, until it is), and the
    /// timer that reports what ran out to compliance.
    async fn build(ctx: &mut Context, args: IntakeArgs) -> anyhow::Result<Intake> {
        if let Some(url) = args.webhook_url() {
            let webhook = webhook::Webhook::new(url, ctx.retry().timeout, args.webhook_secret())?;
            ctx.relay(CUSTOMER, webhook);
        }
        let documents = args
            .document_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
            .map(|url| {
                procedo_platform::documents::Documents::new(
                    url,
                    args.document_timeout,
                    ctx.dialer(),
                )
            })
            .transpose()?;
        let app = App::new(
            ctx.mutations(),
            args.response_limits,
            ctx.calendars(),
            ctx.time_zone(),
            ctx.clock(),
            documents,
        );
        let timer = app.clone();
        let every = args.overdue_sweep;
        ctx.spawn("overdue reports", move |stop| {
            let app = timer.clone();
            async move {
                loop {
                    tokio::select! {
                        () = stop.clone().wait() => return,
                        () = tokio::time::sleep(every) => {}
                    }
                    if let Err(e) = app.report_overdue().await {
                        tracing::warn!(error = ?e, "reporting what ran out failed; trying again");
                    }
                }
            }
        });
        Ok(Intake { app })
    }

    fn routes(&self, routes: &mut Routes) {
        let max = routes.max_message_bytes();
        routes.add(
            IntakeServiceServer::new(IntakeApi::new(self.app.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        );
    }

    fn events(&self) -> EventSink {
        EventSink::new(self.app.clone())
    }

    fn deadlines(&self) -> Arc<dyn Recompute> {
        Arc::new(self.app.clone())
    }
}
