//! Business applications (§2.2): submission with the completeness check,
//! supplements, the preliminary review and withdrawal.

use procedo_platform::auth::authorize;
use procedo_platform::identity::{Actor, Role};
use procedo_platform::paging::Page;
use procedo_platform::time::{self, Millis, to_timestamp};
use procedo_platform::validate::Violations;
use procedo_proto::intake as pb;
use sqlx::AnyConnection;
use tonic::{Request, Response, Status};

use super::IntakeApi;
use super::convert::{self, application_status_to_pb, application_to_pb};
use super::events;
use crate::domain::IllegalTransition;
use crate::domain::application::{
    Application, ApplicationStatus, HistoryEntry, NewApplication, ReviewDecision,
};
use crate::domain::application_type::check_code;
use crate::domain::ledger::LedgerNumber;
use crate::store;
use procedo_platform::error::Error;
use procedo_platform::{etag, mutation};

const SUBMIT: &[Role] = &[Role::IntakeClerk, Role::Service];
const READ: &[Role] = &[
    Role::IntakeClerk,
    Role::DepartmentHead,
    Role::Auditor,
    Role::Service,
];
const REVIEW: &[Role] = &[Role::IntakeClerk];

pub async fn submit(
    api: &IntakeApi,
    r: Request<pb::SubmitApplicationRequest>,
) -> Result<Response<pb::Application>, Status> {
    let actor = authorize(&r, SUBMIT)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let type_code = check_code("type_code", &r.type_code, &mut v);
    let (title, description) = convert::matter("matter", r.matter.as_ref(), &mut v);
    let new = NewApplication {
        type_code,
        applicant: convert::applicant(r.applicant.as_ref(), &mut v),
        title,
        description,
        amount: v.money("amount", r.amount.as_ref()),
        materials: convert::materials("materials", &r.materials, &mut v),
    };
    v.finish()?;
    mutation!(
        api.mutations(),
        "SubmitApplication",
        &actor,
        request_id,
        |tx| {
            let Some(application_type) = store::get_type(&mut tx, &new.type_code)
                .await
                .map_err(Error::from)?
            else {
                return Err(Error::invalid(
                    "type_code",
                    format!("no application type has the code {:?}", new.type_code),
                )
                .into());
            };
            let now = time::now();
            let year = time::utc_year(now);
            let seq = store::next_ledger_seq(&mut tx, year)
                .await
                .map_err(Error::from)?;
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
                &actor,
                now,
            );
            store::insert_application(&mut tx, &application, &entry)
                .await
                .map_err(Error::from)?;
            record_change(
                &mut tx,
                &actor,
                &application,
                &entry,
                "intake.applications.submit",
            )
            .await?;
            application_to_pb(&application)
        }
    )
}

pub async fn get(
    api: &IntakeApi,
    r: Request<pb::GetApplicationRequest>,
) -> Result<Response<pb::Application>, Status> {
    authorize(&r, READ)?;
    let mut v = Violations::new();
    let id = v.resource_id("name", "applications", &r.get_ref().name);
    v.finish()?;
    let mut conn = api.db().reader().acquire().await.map_err(Error::from)?;
    Ok(Response::new(application_to_pb(
        &load(&mut conn, &id).await?,
    )))
}

pub async fn supplement(
    api: &IntakeApi,
    r: Request<pb::SupplementApplicationRequest>,
) -> Result<Response<pb::Application>, Status> {
    let actor = authorize(&r, SUBMIT)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "applications", &r.name);
    let materials = convert::materials("materials", &r.materials, &mut v);
    let matter = r
        .matter
        .as_ref()
        .map(|m| convert::matter("matter", Some(m), &mut v));
    if materials.is_empty() && matter.is_none() {
        v.add("materials", "give materials, a corrected matter, or both");
    }
    let note = v.optional_text("note", &r.note, 2_000);
    v.finish()?;
    mutation!(
        api.mutations(),
        "SupplementApplication",
        &actor,
        request_id,
        |tx| {
            transition(
                &mut tx,
                &actor,
                &id,
                &r.etag,
                "intake.applications.supplement",
                |a, now| a.supplement(materials, matter, note, &actor, now),
            )
            .await?
        }
    )
}

pub async fn review(
    api: &IntakeApi,
    r: Request<pb::ReviewApplicationRequest>,
) -> Result<Response<pb::Application>, Status> {
    let actor = authorize(&r, REVIEW)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "applications", &r.name);
    let decision = match pb::ReviewDecision::try_from(r.decision) {
        Ok(pb::ReviewDecision::Accept) => Some(ReviewDecision::Accept),
        Ok(pb::ReviewDecision::Reject) => {
            let rejection = r.rejection.clone().unwrap_or_default();
            let reason = convert::rejection_reason(rejection.reason, "rejection.reason", &mut v);
            let explanation =
                v.required_text("rejection.explanation", &rejection.explanation, 2_000);
            reason.map(|reason| ReviewDecision::Reject {
                reason,
                explanation,
            })
        }
        Ok(pb::ReviewDecision::RequestCorrection) => {
            if r.correction_items.is_empty() {
                v.add("correction_items", "name at least one item to correct");
            }
            let items = r
                .correction_items
                .iter()
                .enumerate()
                .map(|(i, item)| v.required_line(&format!("correction_items[{i}]"), item, 500))
                .collect();
            Some(ReviewDecision::RequestCorrection { items })
        }
        Ok(pb::ReviewDecision::Unspecified) => {
            v.add(
                "decision",
                "is required: ACCEPT, REJECT or REQUEST_CORRECTION",
            );
            None
        }
        Err(_) => {
            v.add(
                "decision",
                format!("{} is not a known decision", r.decision),
            );
            None
        }
    };
    let comment = v.optional_text("comment", &r.comment, 2_000);
    v.finish()?;
    // Every branch without a decision recorded a violation above.
    let decision = decision.ok_or_else(|| Error::invalid("decision", "is required"))?;
    mutation!(
        api.mutations(),
        "ReviewApplication",
        &actor,
        request_id,
        |tx| {
            transition(
                &mut tx,
                &actor,
                &id,
                &r.etag,
                "intake.applications.review",
                |a, now| a.review(decision, comment, &actor, now),
            )
            .await?
        }
    )
}

pub async fn withdraw(
    api: &IntakeApi,
    r: Request<pb::WithdrawApplicationRequest>,
) -> Result<Response<pb::Application>, Status> {
    let actor = authorize(&r, SUBMIT)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "applications", &r.name);
    let reason = v.optional_text("reason", &r.reason, 2_000);
    v.finish()?;
    mutation!(
        api.mutations(),
        "WithdrawApplication",
        &actor,
        request_id,
        |tx| {
            transition(
                &mut tx,
                &actor,
                &id,
                &r.etag,
                "intake.applications.withdraw",
                |a, now| a.withdraw(reason, &actor, now),
            )
            .await?
        }
    )
}

pub async fn history(
    api: &IntakeApi,
    r: Request<pb::ListApplicationHistoryRequest>,
) -> Result<Response<pb::ListApplicationHistoryResponse>, Status> {
    authorize(&r, READ)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let id = v.resource_id("name", "applications", &r.name);
    let page = Page::parse(r.page_size, &r.page_token, &mut v);
    v.finish()?;
    let mut conn = api.db().reader().acquire().await.map_err(Error::from)?;
    load(&mut conn, &id).await?;
    drop(conn);
    let mut rows = store::list_history(api.db(), &id, &page)
        .await
        .map_err(Error::from)?;
    let next_page_token = page.finish(&mut rows, |h| h.seq.to_string());
    Ok(Response::new(pb::ListApplicationHistoryResponse {
        entries: rows
            .iter()
            .map(|h| pb::ApplicationHistoryEntry {
                from_status: h.from.map_or(0, |s| application_status_to_pb(s) as i32),
                to_status: application_status_to_pb(h.to) as i32,
                action: h.action.clone(),
                reason: h.reason.clone(),
                actor: Some(h.actor.to_proto()),
                time: Some(to_timestamp(h.at)),
            })
            .collect(),
        next_page_token,
    }))
}

async fn load(conn: &mut AnyConnection, id: &str) -> Result<Application, Error> {
    store::get_application(conn, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("applications/{id}")))
}

/// Loads an application, checks its etag, applies `step`, stores it with
/// its history entry and queues the events.
async fn transition(
    tx: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    given_etag: &str,
    action: &str,
    step: impl FnOnce(&mut Application, Millis) -> Result<HistoryEntry, IllegalTransition>,
) -> Result<pb::Application, Error> {
    let resource = format!("applications/{id}");
    let mut application = load(tx, id).await?;
    let read_version = application.version;
    etag::check(&resource, given_etag, read_version)?;
    let entry =
        step(&mut application, time::now()).map_err(|transition| Error::IllegalTransition {
            resource: resource.clone(),
            transition,
        })?;
    store::update_application(tx, &application, read_version, &entry)
        .await
        .map_err(|e| Error::store(&resource, e))?;
    record_change(tx, actor, &application, &entry, action).await?;
    Ok(application_to_pb(&application))
}

/// The audit record of a change and, when the status moved (or the
/// application was just filed), the customer's notification; on acceptance
/// also the event that starts the type's process.
pub(super) async fn record_change(
    tx: &mut AnyConnection,
    actor: &Actor,
    application: &Application,
    entry: &HistoryEntry,
    action: &str,
) -> Result<(), Error> {
    let resource = format!("applications/{}", application.id);
    let from = entry.from.map(ApplicationStatus::as_str).unwrap_or("");
    events::audit(
        tx,
        actor,
        action,
        &resource,
        format!("{from} -> {}", entry.to.as_str()),
    )
    .await?;
    // A new stage is news to the customer even though the status stays.
    if entry.from == Some(entry.to) && entry.action != "process" {
        return Ok(());
    }
    let mut message = format!(
        "Application {} ({}): {}",
        application.ledger_number,
        application.title,
        entry.to.customer_message()
    );
    match entry.to {
        ApplicationStatus::Incomplete => {
            message.push_str(&format!(" Missing: {}.", application.missing.join(", ")));
        }
        ApplicationStatus::CorrectionRequested => {
            message.push_str(&format!(
                " To correct: {}.",
                application.correction_items.join("; ")
            ));
        }
        ApplicationStatus::Rejected => {
            if let Some((_, explanation)) = &application.rejection {
                message.push_str(&format!(" Reason: {explanation}"));
            }
        }
        ApplicationStatus::InProgress => {
            message.push_str(&format!(" Current stage: {}.", application.stage));
        }
        ApplicationStatus::PendingReview
        | ApplicationStatus::Accepted
        | ApplicationStatus::Withdrawn
        | ApplicationStatus::Completed
        | ApplicationStatus::Cancelled => {}
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
        message,
        type_code: application.type_code.clone(),
        amount: application
            .amount
            .as_ref()
            .map(procedo_platform::money::Money::to_proto),
        title: application.title.clone(),
        ..pb::StatusChanged::default()
    };
    if entry.to == ApplicationStatus::Accepted {
        // The workflow service starts the type's process from this event.
        if let Some(t) = store::get_type(tx, &application.type_code).await? {
            change.process_key = t.process_key;
            change.department = if t.handling_department.is_empty() {
                actor.department.clone()
            } else {
                t.handling_department
            };
            events::to_workflow(tx, actor, &change).await?;
        }
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
