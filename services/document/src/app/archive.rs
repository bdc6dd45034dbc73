//! Archiving (§4.3): an archived document is immutable, kept until its
//! retention ends, then disposed of with an approval, leaving a tombstone.

use procedo_platform::error::Error;
use procedo_platform::etag;
use prost::Message;
use sqlx::AnyConnection;

use super::{App, Call, events, refused, visible};
use crate::domain::document::{Document, PaperLocation, Refusal};
use crate::store;

impl App {
    /// Archives document `id` with its paper original at `paper`.
    pub async fn archive<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        paper: Option<PaperLocation>,
        respond: impl FnOnce(&Document) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut document = visible(&mut tx, id, &call.actor).await?;
        let resource = document.resource();
        let read_version = document.version;
        etag::check(&resource, given_etag, read_version)?;
        let category = store::get_category(&mut tx, &document.category)
            .await?
            .ok_or_else(|| Error::unexpected(format!("{resource}'s category is missing")))?;
        document
            .archive(
                &call.actor,
                !category.required_signatures.is_empty(),
                category.retention_years,
                paper,
                self.now(),
            )
            .map_err(|r| refused(&resource, r))?;
        self.save(
            &mut tx,
            &document,
            read_version,
            call,
            "document.documents.archive",
        )
        .await?;
        events::document_fact(
            &mut tx,
            &call.actor,
            procedo_proto::events::document::ARCHIVED,
            &document,
        )
        .await?;
        self.mutations().finish(tx, call, respond(&document)).await
    }

    pub async fn relocate<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        paper: Option<PaperLocation>,
        respond: impl FnOnce(&Document) -> M,
    ) -> Result<M, Error> {
        self.archived_change(
            call,
            id,
            given_etag,
            "document.documents.relocate",
            respond,
            |d, now| d.relocate(paper, now),
        )
        .await
    }

    pub async fn request_disposal<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        reason: String,
        respond: impl FnOnce(&Document) -> M,
    ) -> Result<M, Error> {
        let actor = call.actor.clone();
        self.archived_change(
            call,
            id,
            given_etag,
            "document.documents.request_disposal",
            respond,
            move |d, now| d.request_disposal(reason, &actor, now),
        )
        .await
    }

    /// Approves the disposal of `id`; once committed, its content is
    /// removed from the store unless another document holds the same.
    pub async fn approve_disposal<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        respond: impl FnOnce(&Document) -> M,
    ) -> Result<M, Error> {
        let actor = call.actor.clone();
        let response = self
            .archived_change(
                call,
                id,
                given_etag,
                "document.documents.dispose",
                respond,
                move |d, now| d.approve_disposal(&actor, now),
            )
            .await?;
        let orphans = {
            let mut conn = self.db().reader().acquire().await?;
            store::orphaned_content(&mut conn, id).await?
        };
        for sha256 in orphans {
            // Content written again in the grace period is left to the
            // content sweep: an upload of the same bytes may be about to
            // refer to it.
            if let Err(e) = self.inner.blobs.remove_untouched(&sha256).await {
                tracing::warn!(error = ?e, "the content of a disposed document could not be removed; the content sweep will");
            }
        }
        Ok(response)
    }

    async fn archived_change<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        action: &str,
        respond: impl FnOnce(&Document) -> M,
        apply: impl FnOnce(&mut Document, procedo_platform::time::Millis) -> Result<(), Refusal>,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut document = visible(&mut tx, id, &call.actor).await?;
        let resource = document.resource();
        let read_version = document.version;
        etag::check(&resource, given_etag, read_version)?;
        apply(&mut document, self.now()).map_err(|r| refused(&resource, r))?;
        self.save(&mut tx, &document, read_version, call, action)
            .await?;
        self.mutations().finish(tx, call, respond(&document)).await
    }

    async fn save(
        &self,
        tx: &mut AnyConnection,
        document: &Document,
        read_version: i64,
        call: &Call,
        action: &str,
    ) -> Result<(), Error> {
        let resource = document.resource();
        store::update_document(tx, document, read_version)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        events::audit(
            tx,
            &call.actor,
            action,
            &resource,
            document.status.as_str().to_owned(),
        )
        .await?;
        Ok(())
    }
}
