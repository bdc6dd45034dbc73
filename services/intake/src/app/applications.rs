//! Business applications (§2.2): submission with its ledger number and
//! completeness check, supplements, the preliminary review, withdrawal,
//! and what the customer and the workflow service are told of each.

use procedo_platform::error::Error;
use procedo_platform::etag;
use procedo_platform::identity::Actor;
use procedo_platform::paging::Page;
use procedo_platform::time;
use procedo_proto::intake as pb;
use prost::Message;
use sqlx::AnyConnection;

use super::{App, Call, events};
use crate::domain::application::{
    Application, ApplicationChange, ApplicationStatus, HistoryEntry, NewApplication,
};
use crate::domain::ledger::LedgerNumber;
use crate::store::{self, StoredHistory};

impl App {
    /// Files an application: the next ledger number of the company's year,
    /// the completeness check against its type's checklist.
    pub async fn submit_application<M: Message + Default>(
        &self,
        call: &Call,
        new: NewApplication,
        respond: impl FnOnce(&Application) -> M,
    ) -> Result<M, Error> {
        self.check_materials(call, &new.materials).await?;
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let Some(application_type) = store::get_type(&mut tx, &new.type_code).await? else {
            return Err(Error::invalid(
                "type_code",
                format!("no application type has the code {:?}", new.type_code),
            ));
        };
        let now = self.now();
        let year = time::year_in(now, self.inner.zone);
        let seq = store::next_ledger_seq(&mut tx, year).await?;
        let ledger_number = LedgerNumber::new(year, seq).ok_or_else(|| {
            Error::Exhausted(format!(
                "the intake ledger of {year} has used all 999999 numbers"
            ))
        })?;
        let id = uuid::Uuid::now_v7().to_string();
        let (application, entry) = Application::submit(
            id,
            ledger_number.to_string(),
            new,
            &application_type,
            &call.actor,
            now,
            &*self.inner.calendars.get(&application_type.calendar)?,
        );
        store::insert_application(&mut tx, &application, &entry).await?;
        record_change(
            &mut tx,
            &call.actor,
            &application,
            &entry,
            "intake.applications.submit",
        )
        .await?;
        self.mutations()
            .finish(tx, call, respond(&application))
            .await
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

/// Queues what compliance's assessment counts of a change: submitted
/// (ready for review), accepted, rejected, completed, against the
/// processing time limit; no applicant's personal data.
async fn tell_compliance(
    tx: &mut AnyConnection,
    actor: &Actor,
    application: &Application,
    entry: &HistoryEntry,
) -> Result<(), Error> {
    let department = store::get_type(tx, &application.type_code)
        .await?
        .map(|t| t.handling_department)
        .unwrap_or_default();
    let change = pb::StatusChanged {
        resource: application.resource(),
        ledger_number: application.ledger_number.clone(),
        from_status: entry
            .from
            .map(ApplicationStatus::as_str)
            .unwrap_or("")
            .to_owned(),
        to_status: entry.to.as_str().to_owned(),
        type_code: application.type_code.clone(),
        department,
        due_time: Some(time::to_timestamp(application.processing.due)),
        ..pb::StatusChanged::default()
    };
    events::to_compliance(
        tx,
        actor,
        procedo_proto::events::intake::APPLICATION_STATUS_CHANGED,
        &change,
    )
    .await?;
    Ok(())
}

/// The audit record of a change; when the customer is to hear of it, their
/// notification; on acceptance, the event that has the workflow service
/// start the type's process.
pub(super) async fn record_change(
    tx: &mut AnyConnection,
    actor: &Actor,
    application: &Application,
    entry: &HistoryEntry,
    action: &str,
) -> Result<(), Error> {
    let resource = application.resource();
    let from = entry.from.map(ApplicationStatus::as_str).unwrap_or("");
    events::audit(
        tx,
        actor,
        action,
        &resource,
        format!("{from} -> {}", entry.to.as_str()),
    )
    .await?;
    if matches!(
        entry.to,
        ApplicationStatus::PendingReview
            | ApplicationStatus::Accepted
            | ApplicationStatus::Rejected
            | ApplicationStatus::Completed
    ) && entry.from != Some(entry.to)
    {
        tell_compliance(tx, actor, application, entry).await?;
    }
    if !entry.tells_customer() {
        return Ok(());
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
        && let Some(t) = store::get_type(tx, &application.type_code).await?
    {
        change.process_key.clone_from(&t.process_key);
        change.department = t.initiating_department(actor).to_owned();
        events::to_workflow(tx, actor, &change).await?;
    }
    events::notify_customer(
        tx,
        actor,
        procedo_proto::events::intake::APPLICATION_STATUS_CHANGED,
        &change,
    )
    .await?;
    Ok(())
}
