//! Procedo's document service (regulation §4, §1.3.5): categories with
//! systematic numbering, documents with immutable, content-addressed
//! versions, and confidentiality on every read.
//!
//! # Layout
//!
//! - [`api`]: the tonic handlers: authenticate, check the request into
//!   domain values, call, convert.
//! - [`app`]: the use cases — each one transaction with its audit record.
//! - [`domain`]: numbering patterns, categories, documents and who may see
//!   them; pure and unit-tested.
//! - [`store`]: every SQL statement, for SQLite and PostgreSQL alike.
//! - [`blobs`]: content in an object store, once per SHA-256.
//! - [`config`]: the service's settings; [`DocumentService`] is the
//!   service as the platform's runner starts it.

pub mod api;
pub mod app;
pub mod blobs;
pub mod config;
pub mod domain;
pub mod keys;
pub mod offline;
pub mod store;

use std::sync::Arc;

use procedo_platform::calendars::Recompute;
use procedo_platform::db::Migrations;
use procedo_platform::error::Error;
use procedo_platform::inbox::Events;
use procedo_platform::service::{Context, Routes, Service};
use procedo_proto::common::Event;
use procedo_proto::document::document_service_server::DocumentServiceServer;
use sqlx::AnyConnection;

use crate::api::DocumentApi;
use crate::app::App;
use crate::blobs::{Blobs, S3_MAX_BYTES, S3Settings};
use crate::config::DocumentArgs;
use crate::keys::Keys;

/// A running document service: its handlers.
#[derive(Debug)]
pub struct DocumentService {
    app: App,
}

/// The events the document service follows: none yet (its peers send it
/// calendar versions, which the platform applies).
#[derive(Debug, Clone, Copy)]
pub struct NoEvents;

impl Events for NoEvents {
    type Applied = ();

    async fn apply(&self, _tx: &mut AnyConnection, event: &Event) -> Result<(), Error> {
        tracing::debug!(event.type = %event.r#type, "an event the document service does not follow");
        Ok(())
    }

    fn committed(&self, (): ()) {}
}

impl Service for DocumentService {
    const NAME: &'static str = "document";
    const PORT: u16 = 7103;
    const ABOUT: &'static str =
        "Procedo document: categories and numbering, versions, confidentiality";
    const MIGRATIONS: Migrations = procedo_platform::migrations![
        (1, "document", "0001_document.sql"),
        (2, "review", "0002_review.sql"),
        (3, "signing", "0003_signing.sql"),
        (4, "archive", "0004_archive.sql"),
        (5, "loans", "0005_loans.sql"),
        (6, "time-ordered ids", "0006_time_ordered_ids.sql"),
    ];
    type Args = DocumentArgs;
    type Events = NoEvents;

    async fn build(ctx: &mut Context, args: DocumentArgs) -> anyhow::Result<DocumentService> {
        let s3 = S3Settings {
            endpoint: args.s3_endpoint.clone(),
            access_key_id: args.s3_access_key_id.clone(),
            secret_access_key: args.s3_secret_access_key.clone(),
        };
        let blobs = Blobs::open(
            args.store.as_deref(),
            &ctx.data_dir().join("document-content"),
            &s3,
        )?
        .with_grace(args.content_grace);
        anyhow::ensure!(
            !blobs.is_s3() || args.max_bytes <= S3_MAX_BYTES,
            "PROCEDO_DOCUMENT_MAX_BYTES is {} but an S3 store takes versions of at most {S3_MAX_BYTES} bytes",
            args.max_bytes
        );
        let key_file = args
            .signing_key_file
            .clone()
            .unwrap_or_else(|| ctx.data_dir().join("document-signing-key.pem"));
        let keys = Keys::load_or_create(&key_file)?;
        store::register_key(
            ctx.db(),
            keys.id(),
            &keys.public_text(),
            procedo_platform::time::now(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("publishing the signing key: {e}"))?;
        let app = App::new(
            ctx.mutations(),
            blobs,
            ctx.clock(),
            ctx.time_zone(),
            args.max_bytes,
            keys,
            ctx.calendars(),
        );
        let loans = app.clone();
        ctx.spawn("loan sweep", move |stop| {
            let app = loans.clone();
            app::repeat("loan sweep", args.loan_sweep, stop, move || {
                let app = app.clone();
                async move { app.sweep_loans().await }
            })
        });
        let content = app.clone();
        ctx.spawn("content sweep", move |stop| {
            let app = content.clone();
            app::repeat("content sweep", args.content_sweep, stop, move || {
                let app = app.clone();
                async move { app.sweep_content().await }
            })
        });
        Ok(DocumentService { app })
    }

    fn routes(&self, routes: &mut Routes) {
        let max = routes.max_message_bytes();
        routes.add(
            DocumentServiceServer::new(DocumentApi::new(self.app.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        );
    }

    fn events(&self) -> NoEvents {
        NoEvents
    }

    fn deadlines(&self) -> Arc<dyn Recompute> {
        Arc::new(self.app.clone())
    }
}
