//! Customer inquiries (§2.1).

use procedo_platform::auth::authorize;
use procedo_platform::identity::Role;
use procedo_platform::paging::Page;
use procedo_platform::time;
use procedo_platform::validate::Violations;
use procedo_proto::intake as pb;
use sqlx::AnyConnection;
use tonic::{Request, Response, Status};

use super::IntakeApi;
use super::convert::{self, inquiry_to_pb};
use super::events;
use crate::domain::inquiry::{self, Inquiry, InquiryEntry, NewInquiry};
use crate::store;
use procedo_platform::error::Error;
use procedo_platform::{etag, mutation};

const RECORD: &[Role] = &[Role::IntakeClerk];
const READ: &[Role] = &[Role::IntakeClerk, Role::DepartmentHead, Role::Auditor];
const HANDLE: &[Role] = &[Role::IntakeClerk, Role::DepartmentHead];
const CLOSE: &[Role] = &[Role::IntakeClerk];

pub async fn create(
    api: &IntakeApi,
    r: Request<pb::CreateInquiryRequest>,
) -> Result<Response<pb::Inquiry>, Status> {
    let actor = authorize(&r, RECORD)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let channel = convert::channel(r.channel, "channel", &mut v);
    let new = NewInquiry {
        channel: channel.unwrap_or(inquiry::Channel::Phone),
        customer: convert::customer(r.customer.as_ref(), &mut v),
        subject: v.required_line("subject", &r.subject, 200),
        text: v.required_text("text", &r.text, 10_000),
    };
    v.finish()?;
    mutation!(api.mutations(), "CreateInquiry", &actor, request_id, |tx| {
        let now = time::now();
        let id = uuid::Uuid::now_v7().to_string();
        let inquiry = Inquiry::open(id, new, &api.inner.limits, &actor, now);
        store::insert_inquiry(&mut tx, &inquiry)
            .await
            .map_err(Error::from)?;
        let resource = format!("inquiries/{}", inquiry.id);
        events::audit(
            &mut tx,
            &actor,
            "intake.inquiries.create",
            &resource,
            "OPEN".into(),
        )
        .await
        .map_err(Error::from)?;
        notify(&mut tx, &actor, &inquiry, &inquiry.entries[0]).await?;
        inquiry_to_pb(&inquiry, now)
    })
}

pub async fn get(
    api: &IntakeApi,
    r: Request<pb::GetInquiryRequest>,
) -> Result<Response<pb::Inquiry>, Status> {
    authorize(&r, READ)?;
    let mut v = Violations::new();
    let id = v.resource_id("name", "inquiries", &r.get_ref().name);
    v.finish()?;
    let mut conn = api.db().reader().acquire().await.map_err(Error::from)?;
    let inquiry = load(&mut conn, &id).await?;
    Ok(Response::new(inquiry_to_pb(&inquiry, time::now())))
}

pub async fn list(
    api: &IntakeApi,
    r: Request<pb::ListInquiriesRequest>,
) -> Result<Response<pb::ListInquiriesResponse>, Status> {
    authorize(&r, READ)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let page = Page::parse(r.page_size, &r.page_token, &mut v);
    let now = time::now();
    let filter = store::InquiryFilter {
        status: convert::inquiry_status_filter(r.status, &mut v),
        channel: convert::channel_filter(r.channel, &mut v),
        department: Some(v.optional_line("department", &r.department, 100))
            .filter(|d| !d.is_empty()),
        overdue_at: r.overdue_only.then_some(now),
    };
    v.finish()?;
    let mut rows = store::list_inquiries(api.db(), &filter, &page)
        .await
        .map_err(Error::from)?;
    let next_page_token = page.finish(&mut rows, |i| i.id.clone());
    Ok(Response::new(pb::ListInquiriesResponse {
        inquiries: rows.iter().map(|i| inquiry_to_pb(i, now)).collect(),
        next_page_token,
    }))
}

pub async fn respond(
    api: &IntakeApi,
    r: Request<pb::RespondToInquiryRequest>,
) -> Result<Response<pb::Inquiry>, Status> {
    let actor = authorize(&r, HANDLE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "inquiries", &r.name);
    let answer = v.required_text("answer", &r.answer, 10_000);
    let need = v.optional_text("customer_need", &r.customer_need, 10_000);
    v.finish()?;
    mutation!(
        api.mutations(),
        "RespondToInquiry",
        &actor,
        request_id,
        |tx| {
            transition(
                &mut tx,
                &actor,
                &id,
                &r.etag,
                "intake.inquiries.respond",
                |i, now| i.respond(answer, need, &actor, now),
            )
            .await?
        }
    )
}

pub async fn note(
    api: &IntakeApi,
    r: Request<pb::AddInquiryNoteRequest>,
) -> Result<Response<pb::Inquiry>, Status> {
    let actor = authorize(&r, HANDLE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "inquiries", &r.name);
    let note = v.required_text("note", &r.note, 10_000);
    v.finish()?;
    mutation!(
        api.mutations(),
        "AddInquiryNote",
        &actor,
        request_id,
        |tx| {
            transition(
                &mut tx,
                &actor,
                &id,
                "",
                "intake.inquiries.note",
                |i, now| i.note(note, r.for_customer, &actor, now),
            )
            .await?
        }
    )
}

pub async fn escalate(
    api: &IntakeApi,
    r: Request<pb::EscalateInquiryRequest>,
) -> Result<Response<pb::Inquiry>, Status> {
    let actor = authorize(&r, HANDLE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "inquiries", &r.name);
    let department = v.optional_line("department", &r.department, 100);
    let specialist = v.optional_line("specialist", &r.specialist, 200);
    if department.is_empty() && specialist.is_empty() {
        v.add("department", "a department or a specialist is required");
    }
    let reason = v.required_text("reason", &r.reason, 2_000);
    v.finish()?;
    mutation!(
        api.mutations(),
        "EscalateInquiry",
        &actor,
        request_id,
        |tx| {
            transition(
                &mut tx,
                &actor,
                &id,
                &r.etag,
                "intake.inquiries.escalate",
                |i, now| i.escalate(department, specialist, reason, &actor, now),
            )
            .await?
        }
    )
}

pub async fn resolve(
    api: &IntakeApi,
    r: Request<pb::ResolveInquiryRequest>,
) -> Result<Response<pb::Inquiry>, Status> {
    let actor = authorize(&r, HANDLE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "inquiries", &r.name);
    let resolution = v.required_text("resolution", &r.resolution, 10_000);
    v.finish()?;
    mutation!(
        api.mutations(),
        "ResolveInquiry",
        &actor,
        request_id,
        |tx| {
            transition(
                &mut tx,
                &actor,
                &id,
                &r.etag,
                "intake.inquiries.resolve",
                |i, now| i.resolve(resolution, &actor, now),
            )
            .await?
        }
    )
}

pub async fn close(
    api: &IntakeApi,
    r: Request<pb::CloseInquiryRequest>,
) -> Result<Response<pb::Inquiry>, Status> {
    let actor = authorize(&r, CLOSE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "inquiries", &r.name);
    let satisfaction = inquiry::satisfaction(r.satisfaction);
    if satisfaction.is_none() {
        v.add("satisfaction", "must be 1 to 5");
    }
    let remark = v.optional_text("remark", &r.remark, 2_000);
    v.finish()?;
    let satisfaction = satisfaction.unwrap_or(1);
    mutation!(api.mutations(), "CloseInquiry", &actor, request_id, |tx| {
        transition(
            &mut tx,
            &actor,
            &id,
            &r.etag,
            "intake.inquiries.close",
            |i, now| i.close(satisfaction, remark, &actor, now),
        )
        .await?
    })
}

async fn load(conn: &mut AnyConnection, id: &str) -> Result<Inquiry, Error> {
    store::get_inquiry(conn, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("inquiries/{id}")))
}

/// Loads an inquiry, checks its etag, applies `step`, stores the result and
/// queues the audit record and, when the status changed, the customer
/// notification.
async fn transition(
    tx: &mut AnyConnection,
    actor: &procedo_platform::identity::Actor,
    id: &str,
    given_etag: &str,
    action: &str,
    step: impl FnOnce(
        &mut Inquiry,
        time::Millis,
    ) -> Result<InquiryEntry, crate::domain::IllegalTransition>,
) -> Result<pb::Inquiry, Error> {
    let resource = format!("inquiries/{id}");
    let mut inquiry = load(tx, id).await?;
    let read_version = inquiry.version;
    etag::check(&resource, given_etag, read_version)?;
    let now = time::now();
    let entry = step(&mut inquiry, now).map_err(|transition| Error::IllegalTransition {
        resource: resource.clone(),
        transition,
    })?;
    store::update_inquiry(tx, &inquiry, read_version, &entry)
        .await
        .map_err(|e| Error::store(&resource, e))?;
    let from = entry.from.map(|s| s.as_str()).unwrap_or("");
    events::audit(
        tx,
        actor,
        action,
        &resource,
        format!("{from} -> {}", entry.to.as_str()),
    )
    .await?;
    if entry.tells_customer() {
        notify(tx, actor, &inquiry, &entry).await?;
    }
    inquiry.entries.push(entry);
    Ok(inquiry_to_pb(&inquiry, now))
}

async fn notify(
    tx: &mut AnyConnection,
    actor: &procedo_platform::identity::Actor,
    inquiry: &Inquiry,
    entry: &InquiryEntry,
) -> Result<(), Error> {
    let message = inquiry.customer_message(entry);
    let change = pb::StatusChanged {
        resource: format!("inquiries/{}", inquiry.id),
        from_status: entry
            .from
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        to_status: entry.to.as_str().to_owned(),
        customer: Some(pb::Customer {
            name: inquiry.customer.name.clone(),
            phone: inquiry.customer.phone.clone(),
            email: inquiry.customer.email.clone(),
        }),
        message,
        ..pb::StatusChanged::default()
    };
    let event_type = if entry.shared_with_customer {
        procedo_proto::events::intake::INQUIRY_PROGRESS_NOTED
    } else {
        procedo_proto::events::intake::INQUIRY_STATUS_CHANGED
    };
    events::notify_customer(tx, actor, event_type, &change).await?;
    Ok(())
}
