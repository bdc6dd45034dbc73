//! Customer inquiries (§2.1).

use procedo_platform::auth::authorize;
use procedo_platform::identity::Role;
use procedo_platform::paging::Page;
use procedo_platform::validate::Violations;
use procedo_proto::intake as pb;
use tonic::{Request, Response, Status};

use super::IntakeApi;
use super::convert::{self, inquiry_to_pb};
use crate::app::Call;
use crate::domain::inquiry::{self, InquiryChange, NewInquiry};
use crate::store;

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
    let call = Call::new("CreateInquiry", actor, v.request_id(&r.request_id, &r));
    let channel = convert::channel(r.channel, "channel", &mut v);
    let new = NewInquiry {
        channel: channel.unwrap_or(inquiry::Channel::Phone),
        customer: convert::customer(r.customer.as_ref(), &mut v),
        subject: v.required_line("subject", &r.subject, 200),
        text: v.required_text("text", &r.text, 10_000),
    };
    v.finish()?;
    let now = api.app.now();
    let created = api
        .app
        .open_inquiry(&call, new, |i| inquiry_to_pb(i, now))
        .await?;
    Ok(Response::new(created))
}

pub async fn get(
    api: &IntakeApi,
    r: Request<pb::GetInquiryRequest>,
) -> Result<Response<pb::Inquiry>, Status> {
    authorize(&r, READ)?;
    let mut v = Violations::new();
    let id = v.resource_id("name", "inquiries", &r.get_ref().name);
    v.finish()?;
    let inquiry = api.app.inquiry(&id).await?;
    Ok(Response::new(inquiry_to_pb(&inquiry, api.app.now())))
}

pub async fn entries(
    api: &IntakeApi,
    r: Request<pb::ListInquiryEntriesRequest>,
) -> Result<Response<pb::ListInquiryEntriesResponse>, Status> {
    authorize(&r, READ)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let id = v.resource_id("name", "inquiries", &r.name);
    let page = Page::of(&r, &mut v);
    v.finish()?;
    let (rows, next_page_token) = api.app.inquiry_entries(&id, &page).await?;
    Ok(Response::new(pb::ListInquiryEntriesResponse {
        entries: rows.iter().map(convert::entry_to_pb).collect(),
        next_page_token,
    }))
}

pub async fn list(
    api: &IntakeApi,
    r: Request<pb::ListInquiriesRequest>,
) -> Result<Response<pb::ListInquiriesResponse>, Status> {
    authorize(&r, READ)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let page = Page::of(&r, &mut v);
    let now = api.app.now();
    let filter = store::InquiryFilter {
        status: convert::inquiry_status_filter(r.status, &mut v),
        channel: convert::channel_filter(r.channel, &mut v),
        department: Some(v.optional_line("department", &r.department, 100))
            .filter(|d| !d.is_empty()),
        clock: v.clock_filter(
            "",
            r.overdue_only,
            r.paused_only,
            r.due_within.as_ref(),
            now,
        ),
    };
    v.finish()?;
    let (rows, next_page_token) = api.app.inquiries(&filter, &page).await?;
    Ok(Response::new(pb::ListInquiriesResponse {
        inquiries: rows.iter().map(|i| inquiry_to_pb(i, now)).collect(),
        next_page_token,
    }))
}

/// Applies a change checked from a request.
async fn change(
    api: &IntakeApi,
    call: Call,
    id: &str,
    etag: &str,
    change: InquiryChange,
) -> Result<Response<pb::Inquiry>, Status> {
    let now = api.app.now();
    let changed = api
        .app
        .change_inquiry(&call, id, etag, change, |i| inquiry_to_pb(i, now))
        .await?;
    Ok(Response::new(changed))
}

pub async fn respond(
    api: &IntakeApi,
    r: Request<pb::RespondToInquiryRequest>,
) -> Result<Response<pb::Inquiry>, Status> {
    let actor = authorize(&r, HANDLE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("RespondToInquiry", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("name", "inquiries", &r.name);
    let answer = v.required_text("answer", &r.answer, 10_000);
    let customer_need = v.optional_text("customer_need", &r.customer_need, 10_000);
    v.finish()?;
    let respond = InquiryChange::Respond {
        answer,
        customer_need,
    };
    change(api, call, &id, &r.etag, respond).await
}

pub async fn note(
    api: &IntakeApi,
    r: Request<pb::AddInquiryNoteRequest>,
) -> Result<Response<pb::Inquiry>, Status> {
    let actor = authorize(&r, HANDLE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("AddInquiryNote", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("name", "inquiries", &r.name);
    let text = v.required_text("note", &r.note, 10_000);
    v.finish()?;
    let note = InquiryChange::Note {
        text,
        for_customer: r.for_customer,
    };
    change(api, call, &id, "", note).await
}

pub async fn pause(
    api: &IntakeApi,
    r: Request<pb::PauseInquiryRequest>,
) -> Result<Response<pb::Inquiry>, Status> {
    let actor = authorize(&r, HANDLE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("PauseInquiry", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("name", "inquiries", &r.name);
    let reason = v.required_text("reason", &r.reason, 2_000);
    v.finish()?;
    change(api, call, &id, &r.etag, InquiryChange::Pause { reason }).await
}

pub async fn resume(
    api: &IntakeApi,
    r: Request<pb::ResumeInquiryRequest>,
) -> Result<Response<pb::Inquiry>, Status> {
    let actor = authorize(&r, HANDLE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("ResumeInquiry", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("name", "inquiries", &r.name);
    let note = v.optional_text("note", &r.note, 2_000);
    v.finish()?;
    change(api, call, &id, &r.etag, InquiryChange::Resume { note }).await
}

pub async fn escalate(
    api: &IntakeApi,
    r: Request<pb::EscalateInquiryRequest>,
) -> Result<Response<pb::Inquiry>, Status> {
    let actor = authorize(&r, HANDLE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("EscalateInquiry", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("name", "inquiries", &r.name);
    let department = v.optional_line("department", &r.department, 100);
    let specialist = v.optional_line("specialist", &r.specialist, 200);
    if department.is_empty() && specialist.is_empty() {
        v.add("department", "a department or a specialist is required");
    }
    let reason = v.required_text("reason", &r.reason, 2_000);
    v.finish()?;
    let escalate = InquiryChange::Escalate {
        department,
        specialist,
        reason,
    };
    change(api, call, &id, &r.etag, escalate).await
}

pub async fn resolve(
    api: &IntakeApi,
    r: Request<pb::ResolveInquiryRequest>,
) -> Result<Response<pb::Inquiry>, Status> {
    let actor = authorize(&r, HANDLE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("ResolveInquiry", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("name", "inquiries", &r.name);
    let resolution = v.required_text("resolution", &r.resolution, 10_000);
    v.finish()?;
    change(
        api,
        call,
        &id,
        &r.etag,
        InquiryChange::Resolve { resolution },
    )
    .await
}

pub async fn close(
    api: &IntakeApi,
    r: Request<pb::CloseInquiryRequest>,
) -> Result<Response<pb::Inquiry>, Status> {
    let actor = authorize(&r, CLOSE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("CloseInquiry", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("name", "inquiries", &r.name);
    let satisfaction = inquiry::satisfaction(r.satisfaction);
    if satisfaction.is_none() {
        v.add("satisfaction", "must be 1 to 5");
    }
    let remark = v.optional_text("remark", &r.remark, 2_000);
    v.finish()?;
    let close = InquiryChange::Close {
        satisfaction: satisfaction.unwrap_or(1),
        remark,
    };
    change(api, call, &id, &r.etag, close).await
}
