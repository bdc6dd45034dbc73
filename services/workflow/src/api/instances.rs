//! Instances: starting (idempotent on the business key), reading,
//! cancelling, watching, and what happens around execution (participants,
//! coordination, supervision).

use std::time::Duration;

use procedo_platform::auth::authorize;
use procedo_platform::identity::{Actor, Role};
use procedo_platform::outbox;
use procedo_platform::paging::Page;
use procedo_platform::state::State as _;
use procedo_platform::time::{self, Millis};
use procedo_platform::validate::Violations;
use procedo_proto::workflow as pb;
use sqlx::AnyConnection;
use tonic::{Request, Response, Status};

use super::convert::{self, InstanceView, history_to_pb, instance_to_pb};
use super::progress::{Move, SOURCE};
use super::{HistoryStream, WorkflowApi};
use crate::domain::definition::StepKind;
use crate::domain::engine::{self, Carry};
use crate::domain::instance::{Form, Instance, InstanceStatus, Money, Participants};
use crate::domain::task::TaskStatus;
use crate::domain::visibility::Scope;
use crate::store::{self, InstanceFilter, NewHistory};
use procedo_platform::error::Error;
use procedo_platform::{etag, mutation};

const ANY: &[Role] = &Role::ALL;
const START: &[Role] = &[Role::DepartmentHead, Role::Executor, Role::Service];
const CANCEL: &[Role] = &[Role::DepartmentHead, Role::Service];
const STEER: &[Role] = &[Role::DepartmentHead];
const COORDINATE: &[Role] = &[Role::Executor, Role::DepartmentHead];
const SUPERVISE: &[Role] = &[Role::DepartmentHead, Role::Auditor];

/// What a new instance is made of.
#[derive(Debug, Clone)]
pub struct NewInstance {
    pub process_key: String,
    pub business_key: String,
    pub business_type: String,
    pub amount: Option<Money>,
    pub title: String,
    pub initiator_department: String,
    pub form: Form,
    pub participants: Participants,
    /// The service whose event started it, or "".
    pub origin: String,
}

/// Starts an instance unless one exists for the business key; returns the
/// instance and whether it is new.
pub async fn start_instance(
    api: &WorkflowApi,
    tx: &mut AnyConnection,
    new: NewInstance,
    actor: &Actor,
    now: Millis,
) -> Result<(Instance, bool), Error> {
    if let Some(existing) = store::find_by_business_key(tx, &new.business_key).await? {
        return Ok((existing, false));
    }
    let def = api.definition(tx, &new.process_key, None).await?;
    let mut instance = Instance {
        id: uuid::Uuid::now_v7().to_string(),
        definition_key: def.key.clone(),
        definition_version: def.version,
        business_key: new.business_key,
        origin: new.origin,
        business_type: new.business_type,
        amount: new.amount,
        title: new.title,
        status: InstanceStatus::Running,
        initiator_department: new.initiator_department,
        initiator: actor.clone(),
        form: new.form,
        participants: new.participants,
        approval_chain: Vec::new(),
        matrix_version: 0,
        plan_document: String::new(),
        acceptance_report: String::new(),
        acceptance_signatures: Vec::new(),
        cancel_reason: String::new(),
        created_at: now,
        updated_at: now,
        ended_at: None,
        version: 1,
    };
    if !store::insert_instance(tx, &instance).await? {
        // Another start with the same business key committed first.
        let existing = store::find_by_business_key(tx, &instance.business_key)
            .await?
            .ok_or_else(|| Error::Conflict(format!("instance for {}", instance.business_key)))?;
        return Ok((existing, false));
    }
    store::append_history(
        tx,
        &instance.id,
        NewHistory {
            action: "started",
            detail: def.resource(),
            ..NewHistory::default()
        },
        actor,
        now,
    )
    .await?;
    let resource = instance.resource();
    let mut m = Move {
        tx,
        def: &def,
        instance: &mut instance,
        actor,
        now,
    };
    m.enter(&def.start_step, &Carry::default()).await?;
    m.save(1).await?;
    outbox::audit(
        tx,
        SOURCE,
        actor,
        "workflow.instances.start",
        &resource,
        def.resource(),
    )
    .await?;
    Ok((instance, true))
}

/// The instance as the contract shows it, with its open steps,
/// coordination items and supervision records.
pub async fn instance_pb(
    conn: &mut AnyConnection,
    instance: &Instance,
) -> Result<pb::Instance, Error> {
    let tasks = store::instance_tasks(conn, &instance.id).await?;
    instance_pb_with(conn, instance, &tasks).await
}

/// [`instance_pb`] with the instance's tasks already read.
async fn instance_pb_with(
    conn: &mut AnyConnection,
    instance: &Instance,
    tasks: &[crate::domain::task::Task],
) -> Result<pb::Instance, Error> {
    let mut current_steps: Vec<String> = Vec::new();
    for t in tasks.iter().filter(|t| t.status == TaskStatus::Open) {
        if !current_steps.contains(&t.step) {
            current_steps.push(t.step.clone());
        }
    }
    let coordination = store::coordination_items(conn, Some(&instance.id), None).await?;
    let supervision = store::supervision_records(conn, &instance.id).await?;
    Ok(instance_to_pb(&InstanceView {
        instance,
        current_steps,
        coordination: &coordination,
        supervision: &supervision,
    }))
}

pub async fn load(conn: &mut AnyConnection, id: &str) -> Result<Instance, Error> {
    store::get_instance(conn, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("instances/{id}")))
}

/// Locks the instance (PostgreSQL) and reads it, for a change.
pub async fn load_for_change(
    api: &WorkflowApi,
    tx: &mut AnyConnection,
    id: &str,
) -> Result<Instance, Error> {
    store::lock_instance(tx, api.db().backend(), id).await?;
    load(tx, id).await
}

pub async fn start(
    api: &WorkflowApi,
    r: Request<pb::StartInstanceRequest>,
) -> Result<Response<pb::Instance>, Status> {
    let actor = authorize(&r, START)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
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
    v.finish()?;
    let mut id = String::new();
    let response = mutation!(api.mutations(), "StartInstance", &actor, request_id, |tx| {
        let (instance, _) = start_instance(api, &mut tx, new, &actor, time::now()).await?;
        id.clone_from(&instance.id);
        instance_pb(&mut tx, &instance).await?
    });
    api.changed(&id);
    response
}

/// The instance `id` and its tasks, when `actor` may see it.
async fn visible(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: &str,
) -> Result<(Instance, Vec<crate::domain::task::Task>), Error> {
    let instance = load(conn, id).await?;
    let tasks = store::instance_tasks(conn, id).await?;
    if Scope::of(actor).sees_instance(&instance, &tasks) {
        Ok((instance, tasks))
    } else {
        Err(Error::Denied(format!(
            "{} is not one your department takes part in",
            instance.resource()
        )))
    }
}

pub async fn get(
    api: &WorkflowApi,
    r: Request<pb::GetInstanceRequest>,
) -> Result<Response<pb::Instance>, Status> {
    let actor = authorize(&r, ANY)?;
    let mut v = Violations::new();
    let id = v.resource_id("name", "instances", &r.get_ref().name);
    v.finish()?;
    let mut conn = api.db().reader().acquire().await.map_err(Error::from)?;
    let (instance, tasks) = visible(&mut conn, &actor, &id).await?;
    Ok(Response::new(
        instance_pb_with(&mut conn, &instance, &tasks).await?,
    ))
}

pub async fn list(
    api: &WorkflowApi,
    r: Request<pb::ListInstancesRequest>,
) -> Result<Response<pb::ListInstancesResponse>, Status> {
    let actor = authorize(&r, ANY)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let page = Page::parse(r.page_size, &r.page_token, &mut v);
    let non_empty = |s: String| Some(s).filter(|s| !s.is_empty());
    let filter = InstanceFilter {
        status: convert::instance_status_filter(r.status, &mut v),
        process_key: non_empty(v.optional_line("process_key", &r.process_key, 64)),
        department: non_empty(v.optional_line("department", &r.department, 100)),
        business_key: non_empty(v.optional_line("business_key", &r.business_key, 200)),
        overdue_at: r.overdue_only.then(time::now),
    };
    v.finish()?;
    let scope = Scope::of(&actor);
    let filter = &filter;
    // Each instance is read with its tasks, which decide who sees it.
    let (rows, next_page_token) = page
        .fill(
            |before, limit| async move {
                let instances =
                    store::list_instances(api.db(), filter, before.as_deref(), limit).await?;
                let mut conn = api.db().reader().acquire().await?;
                let mut read = Vec::with_capacity(instances.len());
                for instance in instances {
                    let tasks = store::instance_tasks(&mut conn, &instance.id).await?;
                    read.push((instance, tasks));
                }
                Ok::<_, sqlx::Error>(read)
            },
            |(instance, tasks)| scope.sees_instance(instance, tasks),
            |(instance, _)| instance.id.clone(),
        )
        .await
        .map_err(Error::from)?;
    let mut conn = api.db().reader().acquire().await.map_err(Error::from)?;
    let mut instances = Vec::with_capacity(rows.len());
    for (instance, tasks) in &rows {
        instances.push(instance_pb_with(&mut conn, instance, tasks).await?);
    }
    Ok(Response::new(pb::ListInstancesResponse {
        instances,
        next_page_token,
    }))
}

/// Department heads steer the instances their department initiated.
fn require_initiating_head(actor: &Actor, instance: &Instance) -> Result<(), Error> {
    if actor.has(Role::Admin)
        || actor.has(Role::Service)
        || actor.department == instance.initiator_department
    {
        Ok(())
    } else {
        Err(Error::Denied(format!(
            "only the initiating department ({}) may do this",
            instance.initiator_department
        )))
    }
}

pub async fn cancel(
    api: &WorkflowApi,
    r: Request<pb::CancelInstanceRequest>,
) -> Result<Response<pb::Instance>, Status> {
    let actor = authorize(&r, CANCEL)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "instances", &r.name);
    let reason = v.required_text("reason", &r.reason, 2_000);
    v.finish()?;
    let response = mutation!(
        api.mutations(),
        "CancelInstance",
        &actor,
        request_id,
        |tx| {
            let mut instance = load_for_change(api, &mut tx, &id).await?;
            let resource = instance.resource();
            etag::check(&resource, &r.etag, instance.version)?;
            require_initiating_head(&actor, &instance)?;
            let def = api
                .definition(
                    &mut tx,
                    &instance.definition_key,
                    Some(instance.definition_version),
                )
                .await?;
            let read_version = instance.version;
            let mut m = Move {
                tx: &mut tx,
                def: &def,
                instance: &mut instance,
                actor: &actor,
                now: time::now(),
            };
            m.cancel(reason.clone()).await?;
            m.save(read_version).await?;
            outbox::audit(
                &mut tx,
                SOURCE,
                &actor,
                "workflow.instances.cancel",
                &resource,
                reason,
            )
            .await
            .map_err(Error::from)?;
            instance_pb(&mut tx, &instance).await?
        }
    );
    api.changed(&id);
    response
}

/// Entries read per round trip while watching.
const WATCH_BATCH: i64 = 200;
/// How often a watcher looks for changes made by other replicas.
const WATCH_POLL: Duration = Duration::from_secs(1);

pub async fn watch(
    api: &WorkflowApi,
    r: Request<pb::WatchInstanceRequest>,
) -> Result<Response<HistoryStream>, Status> {
    let actor = authorize(&r, ANY)?;
    let mut v = Violations::new();
    let id = v.resource_id("name", "instances", &r.get_ref().name);
    if r.get_ref().after_sequence < 0 {
        v.add("after_sequence", "must not be negative");
    }
    v.finish()?;
    {
        let mut conn = api.db().reader().acquire().await.map_err(Error::from)?;
        visible(&mut conn, &actor, &id).await?;
    }
    let mut after = r.get_ref().after_sequence;
    // Subscribe before the first read, so no change falls between them.
    let mut changes = api.subscribe();
    let db = api.db().clone();
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let entries = match store::history_after(&db, &id, after, WATCH_BATCH).await {
                Ok(entries) => entries,
                Err(e) => {
                    let _ = tx.send(Err(Status::from(Error::from(e)))).await;
                    return;
                }
            };
            let mut ended = false;
            for entry in &entries {
                after = entry.seq;
                ended |= matches!(entry.action.as_str(), "completed" | "cancelled");
                if tx.send(Ok(history_to_pb(entry))).await.is_err() {
                    return;
                }
            }
            if ended {
                return;
            }
            if entries.is_empty() && !still_running(&db, &id).await {
                // Watching from past the end of a finished instance.
                return;
            }
            if entries.len() as i64 == WATCH_BATCH {
                continue;
            }
            // Wait for a change to this instance, a poll tick, or the client
            // leaving.
            let wait = async {
                loop {
                    match changes.recv().await {
                        Ok(changed) if changed == id => return,
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                            std::future::pending::<()>().await;
                        }
                    }
                }
            };
            tokio::select! {
                () = wait => {}
                () = tokio::time::sleep(WATCH_POLL) => {}
                () = tx.closed() => return,
            }
        }
    });
    Ok(Response::new(Box::pin(
        tokio_stream::wrappers::ReceiverStream::new(rx),
    )))
}

async fn still_running(db: &procedo_platform::db::Database, id: &str) -> bool {
    let Ok(mut conn) = db.reader().acquire().await else {
        return true;
    };
    matches!(store::get_instance(&mut conn, id).await, Ok(Some(i)) if i.status == InstanceStatus::Running)
}

pub async fn update_participants(
    api: &WorkflowApi,
    r: Request<pb::UpdateParticipantsRequest>,
) -> Result<Response<pb::Instance>, Status> {
    let actor = authorize(&r, STEER)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "instances", &r.name);
    let participants = convert::participants(r.participants.as_ref(), &mut v);
    if participants.is_none() {
        v.add("participants", "is required");
    }
    v.finish()?;
    let participants = participants.unwrap_or_default();
    let response = mutation!(
        api.mutations(),
        "UpdateParticipants",
        &actor,
        request_id,
        |tx| {
            let mut instance = load_for_change(api, &mut tx, &id).await?;
            let resource = instance.resource();
            require_initiating_head(&actor, &instance)?;
            instance
                .status
                .require("change the participants of", &[InstanceStatus::Running])
                .map_err(|t| Error::illegal(&resource, t))?;
            let def = api
                .definition(
                    &mut tx,
                    &instance.definition_key,
                    Some(instance.definition_version),
                )
                .await?;
            let added: Vec<String> = participants
                .review_departments
                .iter()
                .filter(|d| !instance.participants.review_departments.contains(d))
                .cloned()
                .collect();
            instance.participants = participants.clone();
            let now = time::now();
            let read_version = instance.version;
            // A running joint review takes the new reviewers at once.
            let open = store::instance_tasks(&mut tx, &instance.id)
                .await
                .map_err(Error::from)?;
            let running_review = open
                .iter()
                .find(|t| t.status == TaskStatus::Open && t.kind == Some(StepKind::Countersign))
                .map(|t| (t.step.clone(), t.visit));
            let mut m = Move {
                tx: &mut tx,
                def: &def,
                instance: &mut instance,
                actor: &actor,
                now,
            };
            if let Some((step_id, visit)) = running_review
                && let Some(step) = def.step(&step_id)
            {
                let reviewing: Vec<String> = open
                    .iter()
                    .filter(|t| t.step == step_id && t.visit == visit)
                    .map(|t| t.department.clone())
                    .collect();
                let new_tasks = engine::enter(&*m.instance, step, visit, &Carry::default(), now);
                for task in new_tasks
                    .into_iter()
                    .filter(|t| added.contains(&t.department) && !reviewing.contains(&t.department))
                {
                    m.open(task).await?;
                }
            }
            m.save(read_version).await?;
            record(
                &mut tx,
                &id,
                "participants_changed",
                "participants",
                participants.summary(),
                &actor,
                now,
            )
            .await?;
            instance_pb(&mut tx, &instance).await?
        }
    );
    api.changed(&id);
    response
}

/// Records a change beside the process (participants, coordination,
/// supervision): its history entry and its audit record,
/// `workflow.instances.<audit>`.
async fn record(
    tx: &mut AnyConnection,
    id: &str,
    action: &str,
    audit: &str,
    detail: String,
    actor: &Actor,
    now: Millis,
) -> Result<(), Error> {
    store::append_history(
        tx,
        id,
        NewHistory {
            action,
            detail: detail.clone(),
            ..NewHistory::default()
        },
        actor,
        now,
    )
    .await?;
    outbox::audit(
        tx,
        SOURCE,
        actor,
        &format!("workflow.instances.{audit}"),
        &format!("instances/{id}"),
        detail,
    )
    .await?;
    Ok(())
}

async fn running(
    api: &WorkflowApi,
    tx: &mut AnyConnection,
    id: &str,
    action: &'static str,
) -> Result<Instance, Error> {
    let instance = load_for_change(api, tx, id).await?;
    instance
        .status
        .require(action, &[InstanceStatus::Running])
        .map_err(|t| Error::illegal(instance.resource(), t))?;
    Ok(instance)
}

pub async fn add_coordination_item(
    api: &WorkflowApi,
    r: Request<pb::AddCoordinationItemRequest>,
) -> Result<Response<pb::Instance>, Status> {
    let actor = authorize(&r, COORDINATE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "instances", &r.name);
    let problem = v.required_text("problem", &r.problem, 5_000);
    let department = v.required_line("responsible_department", &r.responsible_department, 100);
    v.finish()?;
    let response = mutation!(
        api.mutations(),
        "AddCoordinationItem",
        &actor,
        request_id,
        |tx| {
            let instance = running(api, &mut tx, &id, "add a coordination item to").await?;
            let now = time::now();
            store::insert_coordination(
                &mut tx,
                Some(&id),
                None,
                &problem,
                &department,
                &actor,
                now,
            )
            .await
            .map_err(Error::from)?;
            record(
                &mut tx,
                &id,
                "coordination_item_added",
                "coordinate",
                format!("{department}: {problem}"),
                &actor,
                now,
            )
            .await?;
            instance_pb(&mut tx, &instance).await?
        }
    );
    api.changed(&id);
    response
}

pub async fn resolve_coordination_item(
    api: &WorkflowApi,
    r: Request<pb::ResolveCoordinationItemRequest>,
) -> Result<Response<pb::Instance>, Status> {
    let actor = authorize(&r, COORDINATE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "instances", &r.name);
    let item = v.required_line("item_id", &r.item_id, 64);
    let resolution = v.required_text("resolution", &r.resolution, 5_000);
    v.finish()?;
    let response = mutation!(
        api.mutations(),
        "ResolveCoordinationItem",
        &actor,
        request_id,
        |tx| {
            let instance = running(api, &mut tx, &id, "resolve a coordination item of").await?;
            let now = time::now();
            if !store::resolve_coordination(&mut tx, &id, &item, &resolution, now)
                .await
                .map_err(Error::from)?
            {
                return Err(Error::NotFound(format!(
                    "open coordination item {item} of {}",
                    instance.resource()
                ))
                .into());
            }
            record(
                &mut tx,
                &id,
                "coordination_item_resolved",
                "resolve_coordination",
                resolution.clone(),
                &actor,
                now,
            )
            .await?;
            instance_pb(&mut tx, &instance).await?
        }
    );
    api.changed(&id);
    response
}

pub async fn add_supervision_record(
    api: &WorkflowApi,
    r: Request<pb::AddSupervisionRecordRequest>,
) -> Result<Response<pb::Instance>, Status> {
    let actor = authorize(&r, SUPERVISE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "instances", &r.name);
    let findings = v.required_text("findings", &r.findings, 10_000);
    v.finish()?;
    let response = mutation!(
        api.mutations(),
        "AddSupervisionRecord",
        &actor,
        request_id,
        |tx| {
            let instance = running(api, &mut tx, &id, "supervise").await?;
            let now = time::now();
            store::insert_supervision(&mut tx, &id, &findings, &actor, now)
                .await
                .map_err(Error::from)?;
            record(
                &mut tx,
                &id,
                "supervised",
                "supervise",
                format!("{}: {findings}", actor.department),
                &actor,
                now,
            )
            .await?;
            instance_pb(&mut tx, &instance).await?
        }
    );
    api.changed(&id);
    response
}
