//! Instances: starting (idempotent on the business key), reading,
//! cancelling, watching, and what happens around execution (participants,
//! coordination, supervision).

use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::identity::Role;
use procedo_platform::paging::Page;
use procedo_platform::validate::Violations;
use procedo_proto::workflow as pb;
use tokio_stream::StreamExt as _;
use tonic::{Request, Response, Status};

use super::{HistoryStream, WorkflowApi};
use crate::app::{Call, NewInstance};
use crate::convert::{self, history_to_pb, instance_to_pb};
use crate::store::InstanceFilter;

const START: &[Role] = &[Role::DepartmentHead, Role::Executor, Role::Service];
const CANCEL: &[Role] = &[Role::DepartmentHead, Role::Service];
const STEER: &[Role] = &[Role::DepartmentHead];
const COORDINATE: &[Role] = &[Role::Executor, Role::DepartmentHead];
const SUPERVISE: &[Role] = &[Role::DepartmentHead, Role::Auditor];

pub async fn start(
    api: &WorkflowApi,
    r: Request<pb::StartInstanceRequest>,
) -> Result<Response<pb::Instance>, Status> {
    let actor = authorize(&r, START)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let process_key = v.required_line("process_key", &r.process_key, 64);
    let business_key = v.required_line("business_key", &r.business_key, 200);
    let business_type = v.required_line("business_type", &r.business_type, 100);
    let title = v.required_line("title", &r.title, 200);
    let amount = v.money("amount", r.amount.as_ref());
    let department = if r.initiator_department.trim().is_empty() {
        actor.department.clone()
    } else {
        v.required_line("initiator_department", &r.initiator_department, 100)
    };
    if department.is_empty() {
        v.add(
            "initiator_department",
            "is required (the caller's token names no department)",
        );
    }
    let new = NewInstance {
        process_key,
        business_key,
        business_type,
        amount,
        title,
        initiator_department: department,
        form: convert::form(r.form.as_ref(), &mut v).unwrap_or_default(),
        participants: convert::participants(r.participants.as_ref(), &mut v).unwrap_or_default(),
        origin: String::new(),
    };
    let call = Call::new("StartInstance", actor, v.request_id(&r.request_id, &r));
    v.finish()?;
    let started = api.app.start_instance(&call, new, instance_to_pb).await?;
    Ok(Response::new(started))
}

pub async fn get(
    api: &WorkflowApi,
    r: Request<pb::GetInstanceRequest>,
) -> Result<Response<pb::Instance>, Status> {
    let actor = authenticated(&r)?;
    let mut v = Violations::new();
    let id = v.resource_id("name", "instances", &r.get_ref().name);
    v.finish()?;
    let view = api.app.instance(&actor, &id).await?;
    Ok(Response::new(instance_to_pb(&view)))
}

pub async fn list(
    api: &WorkflowApi,
    r: Request<pb::ListInstancesRequest>,
) -> Result<Response<pb::ListInstancesResponse>, Status> {
    let actor = authenticated(&r)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let page = Page::of(&r, &mut v);
    let non_empty = |s: String| Some(s).filter(|s| !s.is_empty());
    let filter = InstanceFilter {
        status: convert::instance_status_filter(r.status, &mut v),
        process_key: non_empty(v.optional_line("process_key", &r.process_key, 64)),
        department: non_empty(v.optional_line("department", &r.department, 100)),
        business_key: non_empty(v.optional_line("business_key", &r.business_key, 200)),
        overdue_at: r.overdue_only.then(|| api.app.now()),
    };
    v.finish()?;
    let (views, next_page_token) = api.app.instances(&actor, &filter, &page).await?;
    Ok(Response::new(pb::ListInstancesResponse {
        instances: views.iter().map(instance_to_pb).collect(),
        next_page_token,
    }))
}

pub async fn cancel(
    api: &WorkflowApi,
    r: Request<pb::CancelInstanceRequest>,
) -> Result<Response<pb::Instance>, Status> {
    let actor = authorize(&r, CANCEL)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("CancelInstance", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("name", "instances", &r.name);
    let reason = v.required_text("reason", &r.reason, 2_000);
    v.finish()?;
    let cancelled = api
        .app
        .cancel_instance(&call, &id, &r.etag, reason, instance_to_pb)
        .await?;
    Ok(Response::new(cancelled))
}

pub async fn watch(
    api: &WorkflowApi,
    r: Request<pb::WatchInstanceRequest>,
) -> Result<Response<HistoryStream>, Status> {
    let actor = authenticated(&r)?;
    let mut v = Violations::new();
    let id = v.resource_id("name", "instances", &r.get_ref().name);
    if r.get_ref().after_sequence < 0 {
        v.add("after_sequence", "must not be negative");
    }
    v.finish()?;
    let (entries, read) = tokio::sync::mpsc::channel(64);
    api.app
        .watch(&actor, &id, r.get_ref().after_sequence, entries)
        .await?;
    let stream = tokio_stream::wrappers::ReceiverStream::new(read)
        .map(|entry| entry.map(|h| history_to_pb(&h)).map_err(Status::from));
    // A watch waits for what has not happened yet: it ends when the
    // server drains, and the watcher calls another replica.
    Ok(procedo_platform::calls::ends_on_drain(Response::new(
        Box::pin(stream),
    )))
}

pub async fn update_participants(
    api: &WorkflowApi,
    r: Request<pb::UpdateParticipantsRequest>,
) -> Result<Response<pb::Instance>, Status> {
    let actor = authorize(&r, STEER)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("UpdateParticipants", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("name", "instances", &r.name);
    let participants = convert::participants(r.participants.as_ref(), &mut v);
    if participants.is_none() {
        v.add("participants", "is required");
    }
    v.finish()?;
    let updated = api
        .app
        .update_participants(&call, &id, participants.unwrap_or_default(), instance_to_pb)
        .await?;
    Ok(Response::new(updated))
}

pub async fn add_coordination_item(
    api: &WorkflowApi,
    r: Request<pb::AddCoordinationItemRequest>,
) -> Result<Response<pb::Instance>, Status> {
    let actor = authorize(&r, COORDINATE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new(
        "AddCoordinationItem",
        actor,
        v.request_id(&r.request_id, &r),
    );
    let id = v.resource_id("name", "instances", &r.name);
    let problem = v.required_text("problem", &r.problem, 5_000);
    let department = v.required_line("responsible_department", &r.responsible_department, 100);
    v.finish()?;
    let updated = api
        .app
        .add_coordination_item(&call, &id, problem, department, instance_to_pb)
        .await?;
    Ok(Response::new(updated))
}

pub async fn resolve_coordination_item(
    api: &WorkflowApi,
    r: Request<pb::ResolveCoordinationItemRequest>,
) -> Result<Response<pb::Instance>, Status> {
    let actor = authorize(&r, COORDINATE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new(
        "ResolveCoordinationItem",
        actor,
        v.request_id(&r.request_id, &r),
    );
    let id = v.resource_id("name", "instances", &r.name);
    let item = v.required_line("item_id", &r.item_id, 64);
    let resolution = v.required_text("resolution", &r.resolution, 5_000);
    v.finish()?;
    let updated = api
        .app
        .resolve_coordination_item(&call, &id, &item, resolution, instance_to_pb)
        .await?;
    Ok(Response::new(updated))
}

pub async fn add_supervision_record(
    api: &WorkflowApi,
    r: Request<pb::AddSupervisionRecordRequest>,
) -> Result<Response<pb::Instance>, Status> {
    let actor = authorize(&r, SUPERVISE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new(
        "AddSupervisionRecord",
        actor,
        v.request_id(&r.request_id, &r),
    );
    let id = v.resource_id("name", "instances", &r.name);
    let findings = v.required_text("findings", &r.findings, 10_000);
    v.finish()?;
    let updated = api
        .app
        .add_supervision_record(&call, &id, findings, instance_to_pb)
        .await?;
    Ok(Response::new(updated))
}
