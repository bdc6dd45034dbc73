//! Business applications (§2.2): submission with its ledger number and
//! completeness check, supplements, the preliminary review, withdrawal,
//! and what the customer and the workflow service are told of each.

use procedo_platform::error::Error;
use procedo_platform::etag;
use procedo_platform::identity::Actor;
use procedo_platform::outbox;
use procedo_platform::paging::Page;
use procedo_platform::time;
use procedo_proto::intake as pb;
use prost::Message;
use sqlx::AnyConnection;

use super::{App, Call, events, submissions};
use crate::domain::application::{
    Application, ApplicationChange, ApplicationStatus, HistoryEntry, NewApplication,
};
use crate::domain::application_type::ApplicationType;
use crate::store::{self, StoredHistory};

impl App {
    /// Files an application: the next ledger number of the company's year,
    /// the completeness check against its type's checklist.
    ///
    /// Submissions arriving together are filed together, one transaction
    /// and one commit for many (see `submissions`).
    pub async fn submit_application<M: Message + Default>(
        &self,
        call: &Call,
        new: NewApplication,
        respond: impl Fn(&Application) -> M + Send + Sync + 'static,
    ) -> Result<M, Error> {
        self.check_materials(call, &new.materials).await?;
        let queue = self.submission_queue();
        let (answer, answered) = tokio::sync::oneshot::channel();
        let submission = submissions::Submission {
            call: call.clone(),
            new,
            respond: Box::new(move |a| respond(a).encode_to_vec()),
            span: tracing::Span::current(),
            answer,
        };
        let stopped = || Error::PeerUnavailable {
            service: "intake",
            reason: "the service is stopping".into(),
        };
        queue.send(submission).await.map_err(|_| stopped())?;
        let response = answered.await.map_err(|_| stopped())??;
        M::decode(response.as_slice())
            .map_err(|e| Error::unexpected(format!("a filed application does not decode: {e}")))
    }

    /// The queue of submissions to file, its filer started when there is
    /// none running.
    fn submission_queue(&self) -> tokio::sync::mpsc::Sender<submissions::Submission> {
        let mut filer = self
            .inner
            .submissions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match filer.as_ref() {
            Some(queue) if !queue.is_closed() => queue.clone(),
            _ => {
                let queue = submissions::start(std::sync::Arc::downgrade(&self.inner));
                *filer = Some(queue.clone());
                queue
            }
        }
    }

    /// Applies `change` to application `id`, guarded by `given_etag` when
    /// one is given.
    pub async fn change_application<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        change: ApplicationChange,
        respond: impl FnOnce(&Application) -> M,
    ) -> Result<M, Error> {
        if let ApplicationChange::Supplement { materials, .. } = &change {
            self.check_materials(call, materials).await?;
        }
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut application = load(&mut tx, id).await?;
        let resource = application.resource();
        let read_version = application.version;
        etag::check(&resource, given_etag, read_version)?;
        let action = change.action();
        let calendar = self.inner.calendars.get(&application.processing.calendar)?;
        let entry = application
            .change(change, &call.actor, self.now(), &calendar)
            .map_err(|t| Error::illegal(&resource, t))?;
        store::update_application(&mut tx, &application, read_version, &entry)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        record_change(&mut tx, &call.actor, &application, &entry, action).await?;
        self.mutations()
            .finish(tx, call, respond(&application))
            .await
    }

    /// With a document service configured: every material given as a
    /// document reference names a document the caller may see. Asked
    /// before any transaction, with the caller's token.
    async fn check_materials(
        &self,
        call: &Call,
        materials: &[crate::domain::application::Material],
    ) -> Result<(), Error> {
        let Some(documents) = &self.inner.documents else {
            return Ok(());
        };
        for (i, m) in materials.iter().enumerate() {
            if m.document_ref.is_empty() {
                continue;
            }
            documents
                .check(
                    &format!("materials[{i}].document_ref"),
                    &m.document_ref,
                    call.bearer.as_deref(),
                    None,
                )
                .await?;
        }
        Ok(())
    }

    pub async fn application(&self, id: &str) -> Result<Application, Error> {
        let mut conn = self.db().reader().acquire().await?;
        load(&mut conn, id).await
    }

    /// The application's history, oldest first; the page and the next
    /// page's token.
    pub async fn application_history(
        &self,
        id: &str,
        page: &Page,
    ) -> Result<(Vec<StoredHistory>, String), Error> {
        self.application(id).await?;
        let mut rows = store::list_history(self.db(), id, page).await?;
        let next = page.finish(&mut rows, |h| h.seq.to_string());
        Ok((rows, next))
    }
}

pub(super) async fn load(conn: &mut AnyConnection, id: &str) -> Result<Application, Error> {
    store::get_application(conn, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("applications/{id}")))
}

/// The audit record of a change; when the customer is to hear of it, their
/// notification; on acceptance, the event that has the workflow service
/// start the type's process; what compliance counts. Written in one
/// statement.
pub(super) async fn record_change(
    tx: &mut AnyConnection,
    actor: &Actor,
    application: &Application,
    entry: &HistoryEntry,
    action: &str,
) -> Result<(), Error> {
    let kind = if needs_type(entry) {
        store::get_type(tx, &application.type_code).await?
    } else {
        None
    };
    let mut queued = outbox::Batch::default();
    queue_change(
        &mut queued,
        actor,
        application,
        entry,
        action,
        kind.as_ref(),
    );
    queued.write(tx).await?;
    Ok(())
}

/// Whether the events of a change name things of the application's type
/// (its handling department, its process).
fn needs_type(entry: &HistoryEntry) -> bool {
    tells_compliance(entry) || (entry.to == ApplicationStatus::Accepted && entry.tells_customer())
}

/// Whether compliance's assessment counts the change: submitted (ready for
/// review), accepted, rejected, completed, against the processing limit.
fn tells_compliance(entry: &HistoryEntry) -> bool {
    matches!(
        entry.to,
        ApplicationStatus::PendingReview
            | ApplicationStatus::Accepted
            | ApplicationStatus::Rejected
            | ApplicationStatus::Completed
    ) && entry.from != Some(entry.to)
}

/// Queues the events of a change (see [`record_change`]); `kind` is the
/// application's type when [`needs_type`] says the events name it.
pub(super) fn queue_change(
    queued: &mut outbox::Batch,
    actor: &Actor,
    application: &Application,
    entry: &HistoryEntry,
    action: &str,
    kind: Option<&ApplicationType>,
) {
    let resource = application.resource();
    let from = entry.from.map(ApplicationStatus::as_str).unwrap_or("");
    queued.audit(
        events::SOURCE,
        actor,
        action,
        &resource,
        format!("{from} -> {}", entry.to.as_str()),
    );
    if tells_compliance(entry) {
        // No applicant's personal data.
        let change = pb::StatusChanged {
            resource: resource.clone(),
            ledger_number: application.ledger_number.clone(),
            from_status: from.to_owned(),
            to_status: entry.to.as_str().to_owned(),
            type_code: application.type_code.clone(),
            department: kind
                .map(|t| t.handling_department.clone())
                .unwrap_or_default(),
            due_time: Some(time::to_timestamp(application.processing.due)),
            ..pb::StatusChanged::default()
        };
        events::queue(
            queued,
            actor,
            events::COMPLIANCE,
            procedo_proto::events::intake::APPLICATION_STATUS_CHANGED,
            &change,
        );
    }
    if !entry.tells_customer() {
        return;
    }
    let mut change = pb::StatusChanged {
        resource,
        ledger_number: application.ledger_number.clone(),
        from_status: from.to_owned(),
        to_status: entry.to.as_str().to_owned(),
        customer: Some(pb::Customer {
            name: application.applicant.name.clone(),
            phone: application.applicant.phone.clone(),
            email: application.applicant.email.clone(),
        }),
        message: application.customer_message(entry),
        type_code: application.type_code.clone(),
        amount: application.amount.as_ref().map(|m| m.to_proto()),
        title: application.title.clone(),
        ..pb::StatusChanged::default()
    };
    if entry.to == ApplicationStatus::Accepted
        && let Some(t) = kind
    {
        change.process_key.clone_from(&t.process_key);
        change.department = t.initiating_department(actor).to_owned();
        events::queue(
            queued,
            actor,
            events::WORKFLOW,
            procedo_proto::events::intake::APPLICATION_ACCEPTED,
            &change,
        );
    }
    events::queue(
        queued,
        actor,
        events::CUSTOMER,
        procedo_proto::events::intake::APPLICATION_STATUS_CHANGED,
        &change,
    );
}
