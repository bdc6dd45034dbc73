//! Tasks: listing what a caller may see, claiming, completing with a
//! decision and a signed opinion, reassigning and delegating.

use procedo_platform::auth::{actor as caller, authorize};
use procedo_platform::deadline::ClockFilter;
use procedo_platform::identity::Role;
use procedo_platform::paging::Page;
use procedo_platform::time::Millis;
use procedo_platform::validate::Violations;
use procedo_proto::workflow as pb;
use tonic::{Request, Response, Status};

use super::WorkflowApi;
use crate::app::{Call, TaskQuery};
use crate::convert::{self, task_to_pb};
use crate::domain::engine::{Completion, Rectify};
use crate::domain::task::Task;
use crate::store::TaskFilter;

const REASSIGN: &[Role] = &[Role::DepartmentHead];

pub async fn list(
    api: &WorkflowApi,
    r: Request<pb::ListTasksRequest>,
) -> Result<Response<pb::ListTasksResponse>, Status> {
    let actor = caller(&r)?.clone();
    let r = r.into_inner();
    let mut v = Violations::new();
    let page = Page::of(&r, &mut v);
    let instance_id = if r.instance.is_empty() {
        None
    } else {
        Some(v.resource_id("instance", "instances", &r.instance))
    };
    let department = v.optional_line("department", &r.department, 100);
    let status = convert::task_status_filter(r.status, &mut v);
    let due = v.clock_filter(
        "",
        r.overdue_only,
        false,
        r.due_within.as_ref(),
        api.app.now(),
    );
    v.finish()?;
    let query = TaskQuery {
        filter: TaskFilter {
            viewer: None,
            assignee: r.assigned_to_me.then(|| actor.subject.clone()),
            department: Some(department).filter(|d| !d.is_empty()),
            instance_id,
            status,
            due_between: match due {
                ClockFilter::RunningDue { from, to } => Some((from, to)),
                ClockFilter::Any | ClockFilter::Paused => None,
            },
            actionable_by: None,
        },
        actionable: r.actionable,
    };
    let (tasks, next_page_token) = api.app.tasks(&actor, query, &page).await?;
    let now = api.app.now();
    Ok(Response::new(pb::ListTasksResponse {
        tasks: tasks.iter().map(|t| task_to_pb(t, now)).collect(),
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
    let task = api.app.task(&actor, &id).await?;
    Ok(Response::new(task_to_pb(&task, api.app.now())))
}

pub async fn claim(
    api: &WorkflowApi,
    r: Request<pb::ClaimTaskRequest>,
) -> Result<Response<pb::Task>, Status> {
    let actor = caller(&r)?.clone();
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("ClaimTask", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("name", "tasks", &r.name);
    v.finish()?;
    Ok(Response::new(
        api.app
            .claim_task(&call, &id, |t: &Task| task_to_pb(t, api.app.now()))
            .await?,
    ))
}

pub async fn complete(
    api: &WorkflowApi,
    r: Request<pb::CompleteTaskRequest>,
) -> Result<Response<pb::Task>, Status> {
    let actor = caller(&r)?.clone();
    let bearer = procedo_platform::auth::bearer(&r);
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("CompleteTask", actor, v.request_id(&r.request_id, &r)).on_behalf(bearer);
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
        rectification: rectification(&r, api.app.now(), &mut v),
    };
    let form = convert::form(r.form.as_ref(), &mut v);
    v.finish()?;
    let completed = api
        .app
        .complete_task(&call, &id, &r.etag, completion, form, |t: &Task| {
            task_to_pb(t, api.app.now())
        })
        .await?;
    Ok(Response::new(completed))
}

/// By when a failed acceptance asks for rectification: a fixed time in the
/// future, or a time limit; not both.
fn rectification(r: &pb::CompleteTaskRequest, now: Millis, v: &mut Violations) -> Option<Rectify> {
    match (&r.rectification_deadline, &r.rectification_limit) {
        (Some(_), Some(_)) => {
            v.add(
                "rectification_limit",
                "give rectification_deadline or rectification_limit, not both",
            );
            None
        }
        (Some(at), None) => match v.time_opt("rectification_deadline", Some(at))? {
            at if at <= now => {
                v.add("rectification_deadline", "must be in the future");
                None
            }
            at => Some(Rectify::Until(at)),
        },
        (None, Some(limit)) => v
            .time_limit("rectification_limit", Some(limit))
            .map(Rectify::Within),
        (None, None) => None,
    }
}

/// Required changes or rectification requirements of one completion, at
/// most.
const MAX_LINES: usize = 100;

fn lines(field: &str, items: &[String], v: &mut Violations) -> Vec<String> {
    v.at_most(field, items, MAX_LINES)
        .iter()
        .enumerate()
        .map(|(i, item)| v.required_line(&format!("{field}[{i}]"), item, 1_000))
        .collect()
}

/// Department heads hand their department's tasks to someone else.
pub async fn reassign(
    api: &WorkflowApi,
    r: Request<pb::ReassignTaskRequest>,
) -> Result<Response<pb::Task>, Status> {
    let actor = authorize(&r, REASSIGN)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("ReassignTask", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("name", "tasks", &r.name);
    let assignee = v.required_line("assignee", &r.assignee, 200);
    let reason = v.optional_text("reason", &r.reason, 2_000);
    v.finish()?;
    let reassigned = api
        .app
        .reassign_task(&call, &id, assignee, reason, |t: &Task| {
            task_to_pb(t, api.app.now())
        })
        .await?;
    Ok(Response::new(reassigned))
}

/// The assignee hands the task on, keeping the record of who delegated.
pub async fn delegate(
    api: &WorkflowApi,
    r: Request<pb::DelegateTaskRequest>,
) -> Result<Response<pb::Task>, Status> {
    let actor = caller(&r)?.clone();
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("DelegateTask", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("name", "tasks", &r.name);
    let delegate = v.required_line("delegate", &r.delegate, 200);
    let reason = v.optional_text("reason", &r.reason, 2_000);
    v.finish()?;
    let delegated = api
        .app
        .delegate_task(&call, &id, delegate, reason, |t: &Task| {
            task_to_pb(t, api.app.now())
        })
        .await?;
    Ok(Response::new(delegated))
}
