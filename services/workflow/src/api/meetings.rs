//! Department meetings (§5.1): minutes, coordination items, and action
//! items that become tracked tasks with an owner and a due date.

use procedo_platform::auth::authorize;
use procedo_platform::identity::Role;
use procedo_platform::outbox;
use procedo_platform::paging::Page;
use procedo_platform::time::{self, to_timestamp};
use procedo_platform::validate::Violations;
use procedo_proto::workflow as pb;
use sqlx::AnyConnection;
use tonic::{Request, Response, Status};

use super::WorkflowApi;
use super::convert::coordination_to_pb;
use super::progress::SOURCE;
use crate::domain::task::{Task, TaskStatus};
use crate::store::{self, ActionItemRow, MeetingRow};
use procedo_platform::error::Error;
use procedo_platform::mutation;

const ANY: &[Role] = &Role::ALL;
const RECORD: &[Role] = &[Role::DepartmentHead];

async fn meeting_pb(conn: &mut AnyConnection, m: &MeetingRow) -> Result<pb::Meeting, Error> {
    let coordination = store::coordination_items(conn, None, Some(&m.id)).await?;
    Ok(pb::Meeting {
        name: format!("meetings/{}", m.id),
        department: m.department.clone(),
        title: m.title.clone(),
        held_time: Some(to_timestamp(m.held_at)),
        attendees: m.attendees.clone(),
        progress: m.progress.clone(),
        problems: m.problems.clone(),
        coordination_items: coordination.iter().map(coordination_to_pb).collect(),
        action_items: m
            .action_items
            .iter()
            .map(|a| pb::ActionItem {
                description: a.description.clone(),
                owner: a.owner.clone(),
                due_time: Some(to_timestamp(a.due_at)),
                task: format!("tasks/{}", a.task_id),
            })
            .collect(),
        recorded_by: Some(m.recorded_by.to_proto()),
        create_time: Some(to_timestamp(m.created_at)),
    })
}

pub async fn record(
    api: &WorkflowApi,
    r: Request<pb::RecordMeetingRequest>,
) -> Result<Response<pb::Meeting>, Status> {
    let actor = authorize(&r, RECORD)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let m = r.meeting.unwrap_or_default();
    if !actor.has(Role::Admin) && !m.department.is_empty() && m.department != actor.department {
        return Err(Status::permission_denied(format!(
            "only the head of {} may record its meetings",
            m.department
        )));
    }
    let department = if m.department.trim().is_empty() {
        actor.department.clone()
    } else {
        v.required_line("meeting.department", &m.department, 100)
    };
    if department.is_empty() {
        v.add("meeting.department", "is required");
    }
    let title = v.required_line("meeting.title", &m.title, 200);
    let held_at = v.time_opt("meeting.held_time", m.held_time.as_ref());
    if m.held_time.is_none() {
        v.add("meeting.held_time", "is required");
    }
    let attendees: Vec<String> = m
        .attendees
        .iter()
        .enumerate()
        .map(|(i, a)| v.required_line(&format!("meeting.attendees[{i}]"), a, 200))
        .collect();
    if attendees.is_empty() {
        v.add("meeting.attendees", "list who attended");
    }
    let progress = v.optional_text("meeting.progress", &m.progress, 20_000);
    let problems: Vec<String> = m
        .problems
        .iter()
        .enumerate()
        .map(|(i, p)| v.required_text(&format!("meeting.problems[{i}]"), p, 5_000))
        .collect();
    let coordination: Vec<(String, String)> = m
        .coordination_items
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                v.required_text(
                    &format!("meeting.coordination_items[{i}].problem"),
                    &c.problem,
                    5_000,
                ),
                v.required_line(
                    &format!("meeting.coordination_items[{i}].responsible_department"),
                    &c.responsible_department,
                    100,
                ),
            )
        })
        .collect();
    let now = time::now();
    let actions: Vec<(String, String, time::Millis)> = m
        .action_items
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let due = v.time_opt(
                &format!("meeting.action_items[{i}].due_time"),
                a.due_time.as_ref(),
            );
            if a.due_time.is_none() {
                v.add(format!("meeting.action_items[{i}].due_time"), "is required");
            }
            (
                v.required_text(
                    &format!("meeting.action_items[{i}].description"),
                    &a.description,
                    5_000,
                ),
                v.required_line(&format!("meeting.action_items[{i}].owner"), &a.owner, 200),
                due.unwrap_or(now),
            )
        })
        .collect();
    v.finish()?;
    mutation!(api.mutations(), "RecordMeeting", &actor, request_id, |tx| {
        let id = uuid::Uuid::now_v7().to_string();
        let mut action_items = Vec::with_capacity(actions.len());
        for (description, owner, due_at) in actions {
            let task = Task {
                id: uuid::Uuid::now_v7().to_string(),
                instance_id: None,
                meeting_id: Some(id.clone()),
                step: String::new(),
                visit: 0,
                kind: None,
                title: format!("Action item: {title}"),
                content: description.clone(),
                standard: vec![],
                role: String::new(),
                department: department.clone(),
                approval_level: 0,
                chain_index: 0,
                assignee: owner.clone(),
                delegated_by: String::new(),
                status: TaskStatus::Open,
                due_at,
                overdue_at: None,
                escalated_at: None,
                decision: None,
                opinion: String::new(),
                signature: None,
                document: String::new(),
                requirements: vec![],
                rectification_deadline: None,
                prior_opinions: vec![],
                created_at: now,
                completed_at: None,
                version: 1,
            };
            store::insert_task(&mut tx, &task)
                .await
                .map_err(Error::from)?;
            action_items.push(ActionItemRow {
                description,
                owner,
                due_at,
                task_id: task.id,
            });
        }
        let meeting = MeetingRow {
            id: id.clone(),
            department: department.clone(),
            title: title.clone(),
            held_at: held_at.unwrap_or(now),
            attendees: attendees.clone(),
            progress: progress.clone(),
            problems: problems.clone(),
            action_items,
            recorded_by: actor.clone(),
            created_at: now,
        };
        store::insert_meeting(&mut tx, &meeting)
            .await
            .map_err(Error::from)?;
        for (problem, responsible) in &coordination {
            store::insert_coordination(&mut tx, None, Some(&id), problem, responsible, &actor, now)
                .await
                .map_err(Error::from)?;
        }
        outbox::audit(
            &mut tx,
            SOURCE,
            &actor,
            "workflow.meetings.record",
            &format!("meetings/{id}"),
            department.clone(),
        )
        .await
        .map_err(Error::from)?;
        meeting_pb(&mut tx, &meeting).await?
    })
}

pub async fn get(
    api: &WorkflowApi,
    r: Request<pb::GetMeetingRequest>,
) -> Result<Response<pb::Meeting>, Status> {
    authorize(&r, ANY)?;
    let mut v = Violations::new();
    let id = v.resource_id("name", "meetings", &r.get_ref().name);
    v.finish()?;
    let mut conn = api.db().reader().acquire().await.map_err(Error::from)?;
    let meeting = store::get_meeting(&mut conn, &id)
        .await
        .map_err(Error::from)?
        .ok_or_else(|| Error::NotFound(format!("meetings/{id}")))?;
    Ok(Response::new(meeting_pb(&mut conn, &meeting).await?))
}

pub async fn list(
    api: &WorkflowApi,
    r: Request<pb::ListMeetingsRequest>,
) -> Result<Response<pb::ListMeetingsResponse>, Status> {
    authorize(&r, ANY)?;
    let mut v = Violations::new();
    let page = Page::parse(r.get_ref().page_size, &r.get_ref().page_token, &mut v);
    let department = v.optional_line("department", &r.get_ref().department, 100);
    v.finish()?;
    let mut rows = store::list_meetings(
        api.db(),
        Some(department.as_str()).filter(|d| !d.is_empty()),
        &page,
    )
    .await
    .map_err(Error::from)?;
    let next_page_token = page.finish(&mut rows, |m| m.id.clone());
    let mut conn = api.db().reader().acquire().await.map_err(Error::from)?;
    let mut meetings = Vec::with_capacity(rows.len());
    for m in &rows {
        meetings.push(meeting_pb(&mut conn, m).await?);
    }
    Ok(Response::new(pb::ListMeetingsResponse {
        meetings,
        next_page_token,
    }))
}
