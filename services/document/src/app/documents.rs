//! Documents: registered and numbered (§4.1), found, edited and voided,
//! each only by those who may see it (§1.3.5).

use procedo_platform::error::Error;
use procedo_platform::etag;
use procedo_platform::identity::Actor;
use procedo_platform::paging::Page;
use procedo_platform::time;
use prost::Message;

use super::{App, Call, events, refused, visible};
use crate::domain::document::{Document, DocumentEdit, NewDocument, Status};
use crate::store::{self, DocumentFilter};

/// Numbers tried past ones already taken (a category's pattern changed so
/// that two sequences meet) before giving up.
const TAKEN_NUMBERS_SKIPPED: usize = 100;

impl App {
    /// Registers `new` and gives it the next number of its category.
    pub async fn register<M: Message + Default>(
        &self,
        call: &Call,
        new: NewDocument,
        respond: impl FnOnce(&Document) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let Some(category) = store::get_category(&mut tx, &new.category).await? else {
            return Err(Error::invalid(
                "category",
                format!("no category has the code {:?}", new.category),
            ));
        };
        let now = self.now();
        let actor = &call.actor;
        let owning_department = if new.owning_department.is_empty() {
            actor.department.clone()
        } else {
            new.owning_department
        };
        if owning_department.is_empty() {
            return Err(Error::invalid(
                "owning_department",
                "is required: your token names no department",
            ));
        }
        let confidentiality = new
            .confidentiality
            .unwrap_or(category.default_confidentiality);
        if confidentiality > actor.clearance {
            return Err(Error::invalid(
                "confidentiality",
                "must not be above your own clearance",
            ));
        }
        let mut document = Document {
            id: crate::domain::document::new_id(now),
            number: String::new(),
            title: new.title,
            category: category.code.clone(),
            owning_department,
            confidentiality,
            tags: new.tags,
            related: new.related,
            grantees: new.grantees,
            author: actor.clone(),
            status: Status::Draft,
            void_reason: String::new(),
            current_version: 0,
            archive: None,
            disposal: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        // The author of a confidential document for another department
        // keeps sight of it.
        if !document.visible_to(actor) && !document.grantees.contains(&actor.subject) {
            document.grantees.push(actor.subject.clone());
        }
        let year = time::year_in(now, self.inner.zone);
        let (period, department) = category.sequence(year, &document.owning_department);
        let mut registered = false;
        for _ in 0..TAKEN_NUMBERS_SKIPPED {
            let seq = store::next_seq(&mut tx, &category.code, &period, &department).await?;
            document.number = category
                .pattern
                .render(&category.code, year, &document.owning_department, seq)
                .ok_or_else(|| {
                    Error::Exhausted(format!(
                        "{} has used every number its pattern {} allows{}",
                        category.resource(),
                        category.pattern,
                        if period.is_empty() {
                            String::new()
                        } else {
                            format!(" in {period}")
                        }
                    ))
                })?;
            if store::insert_document(&mut tx, &document).await? {
                registered = true;
                break;
            }
        }
        if !registered {
            return Err(Error::Exhausted(format!(
                "{}: the next numbers are all taken; change its numbering pattern",
                category.resource()
            )));
        }
        events::audit(
            &mut tx,
            actor,
            "document.documents.register",
            &document.resource(),
            document.number.clone(),
        )
        .await?;
        events::document_fact(
            &mut tx,
            actor,
            procedo_proto::events::document::REGISTERED,
            &document,
        )
        .await?;
        self.mutations().finish(tx, call, respond(&document)).await
    }

    /// Document `id`, if `actor` may see it; reading a confidential one is
    /// audited.
    pub async fn document(&self, actor: &Actor, id: &str) -> Result<Document, Error> {
        let mut conn = self.db().reader().acquire().await?;
        let document = visible(&mut conn, id, actor).await?;
        drop(conn);
        self.audit_reads(actor, std::slice::from_ref(&document), "metadata")
            .await?;
        Ok(document)
    }

    /// Records that `actor` read those of `documents` that are
    /// confidential or secret (§1.3.5), in one transaction.
    pub(super) async fn audit_reads(
        &self,
        actor: &Actor,
        documents: &[Document],
        what: &str,
    ) -> Result<(), Error> {
        let audited: Vec<&Document> = documents
            .iter()
            .filter(|d| events::read_is_audited(d.confidentiality))
            .collect();
        if audited.is_empty() {
            return Ok(());
        }
        let mut tx = self.db().begin().await?;
        for d in audited {
            events::audit(
                &mut tx,
                actor,
                "document.documents.read",
                &d.resource(),
                what.to_owned(),
            )
            .await?;
        }
        tx.commit().await?;
        self.mutations().committed();
        Ok(())
    }

    /// What `actor` may see of `filter`, newest first; the page and the
    /// next page's token.
    pub async fn documents(
        &self,
        actor: &Actor,
        filter: &DocumentFilter,
        page: &Page,
    ) -> Result<(Vec<Document>, String), Error> {
        let mut rows = store::list_documents(
            self.db(),
            actor,
            filter,
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
        let next = page.finish(&mut rows, |d| d.id.clone());
        self.audit_reads(actor, &rows, "listed").await?;
        Ok((rows, next))
    }

    pub async fn edit<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        edit: DocumentEdit,
        respond: impl FnOnce(&Document) -> M,
    ) -> Result<M, Error> {
        self.change(
            call,
            id,
            given_etag,
            "document.documents.update",
            respond,
            |d, actor, now| d.edit(edit, actor, now),
        )
        .await
    }

    pub async fn void<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        reason: String,
        respond: impl FnOnce(&Document) -> M,
    ) -> Result<M, Error> {
        self.change(
            call,
            id,
            given_etag,
            "document.documents.void",
            respond,
            |d, actor, now| d.void(reason, actor, now),
        )
        .await
    }

    async fn change<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        action: &str,
        respond: impl FnOnce(&Document) -> M,
        apply: impl FnOnce(
            &mut Document,
            &Actor,
            time::Millis,
        ) -> Result<(), crate::domain::document::Refusal>,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut document = visible(&mut tx, id, &call.actor).await?;
        let resource = document.resource();
        let read_version = document.version;
        etag::check(&resource, given_etag, read_version)?;
        apply(&mut document, &call.actor, self.now()).map_err(|r| refused(&resource, r))?;
        store::update_document(&mut tx, &document, read_version)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        events::audit(
            &mut tx,
            &call.actor,
            action,
            &resource,
            document.status.as_str().to_owned(),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&document)).await
    }
}
