//! Tasks: listing what a caller may act on, claiming, completing with a
//! decision and a signed opinion, reassigning and delegating.

use procedo_platform::auth::{actor as caller, authorize};
use procedo_platform::identity::{Actor, Role};
use procedo_platform::outbox;
use procedo_platform::paging::Page;
use procedo_platform::state::State as _;
use procedo_platform::time::{self, Millis};
use procedo_platform::validate::Violations;
use procedo_proto::workflow as pb;
use sqlx::AnyConnection;
use tonic::{Request, Response, Status};

use super::WorkflowApi;
use super::convert::{self, task_to_pb};
use super::instances::load as load_instance;
use super::progress::{Move, SOURCE};
use crate::domain::definition::{Decision, StepKind};
use crate::domain::engine::{self, Completion};
use crate::domain::instance::InstanceStatus;
use crate::domain::task::{Signature, Task, TaskStatus};
use crate::domain::visibility::Scope;
use crate::store::{self, NewHistory, TaskFilter, ViewerRows};
use procedo_platform::error::Error;
use procedo_platform::{etag, mutation};

const REASSIGN: &[Role] = &[Role::DepartmentHead];

async fn load(conn: &mut AnyConnection, id: &str) -> Result<Task, Error> {
    store::get_task(conn, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("tasks/{id}")))
}

/// Reads a task for a change, holding its instance's lock first so that
/// siblings completed at the same time see each other.
async fn load_for_change(
    api: &WorkflowApi,
    tx: &mut AnyConnection,
    id: &str,
) -> Result<Task, Error> {
    let task = load(tx, id).await?;
    match &task.instance_id {
        Some(instance) => {
            store::lock_instance(tx, api.db().backend(), instance).await?;
            load(tx, id).await
        }
        None => Ok(task),
    }
}

fn open(task: &Task, action: &'static str) -> Result<(), Error> {
    task.status
        .require(action, &[TaskStatus::Open])
        .map_err(|t| Error::illegal(task.resource(), t))
}

fn eligible(task: &Task, actor: &Actor) -> Result<(), Error> {
    task.eligible(actor).map_err(|d| Error::Denied(d.message()))
}

pub async fn list(
    api: &WorkflowApi,
    r: Request<pb::ListTasksRequest>,
) -> Result<Response<pb::ListTasksResponse>, Status> {
    let actor = caller(&r)?.clone();
    let r = r.into_inner();
    let mut v = Violations::new();
    let page = Page::parse(r.page_size, &r.page_token, &mut v);
    let instance_id = if r.instance.is_empty() {
        None
    } else {
        Some(v.resource_id("instance", "instances", &r.instance))
    };
    let department = v.optional_line("department", &r.department, 100);
    let status = convert::task_status_filter(r.status, &mut v);
    v.finish()?;
    let scope = Scope::of(&actor);
    let filter = TaskFilter {
        viewer: scope.viewer().map(|a| ViewerRows {
            subject: a.subject.clone(),
            department: a.department.clone(),
            roles: a.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        }),
        assignee: r.assigned_to_me.then(|| actor.subject.clone()),
        department: Some(department).filter(|d| !d.is_empty()),
        instance_id,
        status,
        overdue_at: r.overdue_only.then(time::now),
    };
    let filter = &filter;
    let (rows, next_page_token) = page
        .fill(
            |after, limit| async move {
                store::list_tasks(api.db(), filter, after.as_deref(), limit).await
            },
            |t: &Task| scope.sees_task(t) && (!r.actionable || t.actionable_by(&actor)),
            |t| t.id.clone(),
        )
        .await
        .map_err(Error::from)?;
    let now = time::now();
    Ok(Response::new(pb::ListTasksResponse {
        tasks: rows.iter().map(|t| task_to_pb(t, now)).collect(),
        next_page_token,
    }))
}

pub async fn get(
    api: &WorkflowApi,
    r: Request<pb::GetTaskRequest>,
) -> Result<Response<pb::Task>, Status> {
    let actor = caller(&r)?.clone();
    let mut v = Violations::new();
    let id = v.resource_id("name", "tasks", &r.get_ref().name);
    v.finish()?;
    let mut conn = api.db().reader().acquire().await.map_err(Error::from)?;
    let task = load(&mut conn, &id).await?;
    if !Scope::of(&actor).sees_task(&task) {
        return Err(Error::Denied(format!(
            "{} belongs to another department and is not yours to act on",
            task.resource()
        ))
        .into());
    }
    Ok(Response::new(task_to_pb(&task, time::now())))
}

pub async fn claim(
    api: &WorkflowApi,
    r: Request<pb::ClaimTaskRequest>,
) -> Result<Response<pb::Task>, Status> {
    let actor = caller(&r)?.clone();
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "tasks", &r.name);
    v.finish()?;
    mutation!(api.mutations(), "ClaimTask", &actor, request_id, |tx| {
        let mut task = load_for_change(api, &mut tx, &id).await?;
        open(&task, "claim")?;
        eligible(&task, &actor)?;
        let read_version = task.version;
        task.assignee.clone_from(&actor.subject);
        task.version += 1;
        store::update_task(&mut tx, &task, read_version)
            .await
            .map_err(|e| Error::store(&task.resource(), e))?;
        record(
            &mut tx,
            &task,
            "task_claimed",
            "claim",
            String::new(),
            &actor,
        )
        .await?;
        task_to_pb(&task, time::now())
    })
}

/// Records a change to a task: the history entry of its instance (if it
/// has one) and the audit record, `workflow.tasks.<audit>`.
async fn record(
    tx: &mut AnyConnection,
    task: &Task,
    action: &str,
    audit: &str,
    detail: String,
    actor: &Actor,
) -> Result<(), Error> {
    if let Some(instance) = &task.instance_id {
        store::append_history(
            tx,
            instance,
            NewHistory {
                action,
                step: &task.step,
                detail: detail.clone(),
                task_id: &task.id,
                ..NewHistory::default()
            },
            actor,
            time::now(),
        )
        .await?;
    }
    outbox::audit(
        tx,
        SOURCE,
        actor,
        &format!("workflow.tasks.{audit}"),
        &task.resource(),
        detail,
    )
    .await?;
    Ok(())
}

pub async fn complete(
    api: &WorkflowApi,
    r: Request<pb::CompleteTaskRequest>,
) -> Result<Response<pb::Task>, Status> {
    let actor = caller(&r)?.clone();
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "tasks", &r.name);
    let decision = convert::decision(r.decision);
    if decision.is_none() {
        v.add("decision", format!("{} is not a decision", r.decision));
    }
    let completion = Completion {
        decision,
        opinion: v.optional_text("opinion", &r.opinion, 10_000),
        document: v.optional_line("document", &r.document, 300),
        send_back_to: v.optional_line("send_back_to_step", &r.send_back_to_step, 64),
        required_changes: lines("required_changes", &r.required_changes, &mut v),
        requirements: lines(
            "rectification_requirements",
            &r.rectification_requirements,
            &mut v,
        ),
        deadline: v.time_opt("rectification_deadline", r.rectification_deadline.as_ref()),
    };
    let form = convert::form(r.form.as_ref(), &mut v);
    v.finish()?;
    let mut instance_id = None;
    let response = mutation!(api.mutations(), "CompleteTask", &actor, request_id, |tx| {
        let now = time::now();
        let mut task = load_for_change(api, &mut tx, &id).await?;
        etag::check(&task.resource(), &r.etag, task.version)?;
        open(&task, "complete")?;
        eligible(&task, &actor)?;
        instance_id.clone_from(&task.instance_id);
        match task.instance_id.clone() {
            None => complete_action_item(&mut tx, &mut task, &completion, &actor, now).await?,
            Some(instance) => {
                complete_step_task(
                    api, &mut tx, &instance, &mut task, completion, form, &actor, now,
                )
                .await?
            }
        }
        task_to_pb(&task, now)
    });
    if let Some(instance) = instance_id {
        api.changed(&instance);
    }
    response
}

fn lines(field: &str, items: &[String], v: &mut Violations) -> Vec<String> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| v.required_line(&format!("{field}[{i}]"), item, 1_000))
        .collect()
}

fn finish(
    task: &mut Task,
    decision: Decision,
    completion: &Completion,
    actor: &Actor,
    now: Millis,
) {
    task.status = TaskStatus::Completed;
    task.decision = Some(decision);
    task.opinion.clone_from(&completion.opinion);
    task.signature = Some(Signature::of(actor, now));
    task.document.clone_from(&completion.document);
    if decision == Decision::Fail {
        task.requirements.clone_from(&completion.requirements);
        task.rectification_deadline = completion.deadline;
    }
    task.completed_at = Some(now);
    task.version += 1;
}

async fn complete_action_item(
    tx: &mut AnyConnection,
    task: &mut Task,
    completion: &Completion,
    actor: &Actor,
    now: Millis,
) -> Result<(), Error> {
    if completion.decision != Some(Decision::Complete) {
        return Err(Error::invalid(
            "decision",
            "an action item is completed with COMPLETE",
        ));
    }
    let read_version = task.version;
    finish(task, Decision::Complete, completion, actor, now);
    store::update_task(tx, task, read_version)
        .await
        .map_err(|e| Error::store(&task.resource(), e))?;
    outbox::audit(
        tx,
        SOURCE,
        actor,
        "workflow.tasks.complete",
        &task.resource(),
        "COMPLETE".into(),
    )
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn complete_step_task(
    api: &WorkflowApi,
    tx: &mut AnyConnection,
    instance_id: &str,
    task: &mut Task,
    completion: Completion,
    form: Option<crate::domain::instance::Form>,
    actor: &Actor,
    now: Millis,
) -> Result<(), Error> {
    // The instance row is already locked: the task was read under its lock.
    let mut instance = load_instance(tx, instance_id).await?;
    let resource = instance.resource();
    instance
        .status
        .require("complete a task of", &[InstanceStatus::Running])
        .map_err(|t| Error::illegal(&resource, t))?;
    let def = api
        .definition(
            tx,
            &instance.definition_key,
            Some(instance.definition_version),
        )
        .await?;
    let step = def
        .step(&task.step)
        .ok_or_else(|| Error::NotFound(format!("step {} of {}", task.step, def.resource())))?;
    let mut round = store::round_tasks(tx, instance_id, &task.step, task.visit).await?;
    engine::check_turn(task, &round).map_err(|o| Error::Precondition {
        kind: "ORDER",
        resource: task.resource(),
        description: o.0,
    })?;
    let decision = engine::check_completion(&def, step, &round, &completion, now)
        .map_err(|u| Error::invalid(u.field.to_owned(), u.description))?;

    let read_task = task.version;
    finish(task, decision, &completion, actor, now);
    store::update_task(tx, task, read_task)
        .await
        .map_err(|e| Error::store(&task.resource(), e))?;
    for t in round.iter_mut().filter(|t| t.id == task.id) {
        *t = task.clone();
    }
    if let Some(form) = form
        && step.id == def.start_step
    {
        instance.form = form;
    }
    if step.requires_document && step.kind == StepKind::Task {
        instance.plan_document.clone_from(&task.document);
    }
    store::append_history(
        tx,
        instance_id,
        NewHistory {
            action: "task_completed",
            step: &step.id,
            decision: decision.as_str(),
            opinion: &task.opinion,
            detail: [task.department.as_str(), task.document.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · "),
            task_id: &task.id,
        },
        actor,
        now,
    )
    .await?;

    let next = engine::decide(&def, &instance, step, task, &completion, &round, now);
    if step.kind == StepKind::Acceptance
        && matches!(
            next,
            engine::Next::Go {
                decision: Decision::Pass,
                ..
            }
        )
    {
        instance.acceptance_report = round
            .iter()
            .find(|t| !t.document.is_empty())
            .map(|t| t.document.clone())
            .unwrap_or_default();
        instance.acceptance_signatures = round.iter().filter_map(|t| t.signature.clone()).collect();
    }
    let read_version = instance.version;
    let mut m = Move {
        tx,
        def: &def,
        instance: &mut instance,
        actor,
        now,
    };
    m.apply(next).await?;
    m.save(read_version).await?;
    outbox::audit(
        tx,
        SOURCE,
        actor,
        "workflow.tasks.complete",
        &task.resource(),
        format!("{} {}", step.id, decision.as_str()),
    )
    .await?;
    Ok(())
}

/// Department heads hand their department's tasks to someone else.
pub async fn reassign(
    api: &WorkflowApi,
    r: Request<pb::ReassignTaskRequest>,
) -> Result<Response<pb::Task>, Status> {
    let actor = authorize(&r, REASSIGN)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "tasks", &r.name);
    let assignee = v.required_line("assignee", &r.assignee, 200);
    let reason = v.optional_text("reason", &r.reason, 2_000);
    v.finish()?;
    mutation!(api.mutations(), "ReassignTask", &actor, request_id, |tx| {
        let mut task = load_for_change(api, &mut tx, &id).await?;
        open(&task, "reassign")?;
        if !actor.has(Role::Admin)
            && !task.department.is_empty()
            && task.department != actor.department
        {
            return Err(Error::Denied(format!(
                "only the head of {} may reassign this task",
                task.department
            ))
            .into());
        }
        let read_version = task.version;
        let previous = std::mem::replace(&mut task.assignee, assignee.clone());
        task.delegated_by.clear();
        task.version += 1;
        store::update_task(&mut tx, &task, read_version)
            .await
            .map_err(|e| Error::store(&task.resource(), e))?;
        record(
            &mut tx,
            &task,
            "task_reassigned",
            "reassign",
            format!("{previous} → {assignee}: {reason}"),
            &actor,
        )
        .await?;
        task_to_pb(&task, time::now())
    })
}

/// The assignee hands the task on, keeping the record of who delegated.
pub async fn delegate(
    api: &WorkflowApi,
    r: Request<pb::DelegateTaskRequest>,
) -> Result<Response<pb::Task>, Status> {
    let actor = caller(&r)?.clone();
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let id = v.resource_id("name", "tasks", &r.name);
    let delegate = v.required_line("delegate", &r.delegate, 200);
    let reason = v.optional_text("reason", &r.reason, 2_000);
    v.finish()?;
    mutation!(api.mutations(), "DelegateTask", &actor, request_id, |tx| {
        let mut task = load_for_change(api, &mut tx, &id).await?;
        open(&task, "delegate")?;
        if task.assignee != actor.subject {
            return Err(Error::Denied(
                "only the task's assignee may delegate it; claim it first".into(),
            )
            .into());
        }
        let read_version = task.version;
        task.delegated_by.clone_from(&actor.subject);
        task.assignee.clone_from(&delegate);
        task.version += 1;
        store::update_task(&mut tx, &task, read_version)
            .await
            .map_err(|e| Error::store(&task.resource(), e))?;
        record(
            &mut tx,
            &task,
            "task_delegated",
            "delegate",
            format!("{} → {delegate}: {reason}", actor.subject),
            &actor,
        )
        .await?;
        task_to_pb(&task, time::now())
    })
}
