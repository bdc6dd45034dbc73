//! Department meetings (§5.1): minutes, coordination items, and action
//! items that become tracked tasks with an owner and a due date.

use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::error::Error;
use procedo_platform::identity::Role;
use procedo_platform::paging::Page;
use procedo_platform::validate::Violations;
use procedo_proto::workflow as pb;
use tonic::{Request, Response, Status};

use super::WorkflowApi;
use crate::app::Call;
use crate::convert::meeting_to_pb;
use crate::domain::meeting::{self, NewActionItem, NewMeeting};

const RECORD: &[Role] = &[Role::DepartmentHead];

pub async fn record(
    api: &WorkflowApi,
    r: Request<pb::RecordMeetingRequest>,
) -> Result<Response<pb::Meeting>, Status> {
    let actor = authorize(&r, RECORD)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new(
        "RecordMeeting",
        actor.clone(),
        v.request_id(&r.request_id, &r),
    );
    let m = r.meeting.unwrap_or_default();
    let department = if m.department.trim().is_empty() {
        actor.department.clone()
    } else {
        v.required_line("meeting.department", &m.department, 100)
    };
    meeting::may_record(&actor, &department).map_err(Error::Denied)?;
    if department.is_empty() {
        v.add("meeting.department", "is required");
    }
    let title = v.required_line("meeting.title", &m.title, 200);
    let held_at = v.time_opt("meeting.held_time", m.held_time.as_ref());
    if m.held_time.is_none() {
        v.add("meeting.held_time", "is required");
    }
    let attendees: Vec<String> = v
        .at_most("meeting.attendees", &m.attendees, 500)
        .iter()
        .enumerate()
        .map(|(i, a)| v.required_line(&format!("meeting.attendees[{i}]"), a, 200))
        .collect();
    if m.attendees.is_empty() {
        v.add("meeting.attendees", "list who attended");
    }
    let progress = v.optional_text("meeting.progress", &m.progress, 20_000);
    let problems: Vec<String> = v
        .at_most("meeting.problems", &m.problems, 200)
        .iter()
        .enumerate()
        .map(|(i, p)| v.required_text(&format!("meeting.problems[{i}]"), p, 5_000))
        .collect();
    let coordination: Vec<(String, String)> = v
        .at_most("meeting.coordination_items", &m.coordination_items, 200)
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
    let now = api.app.now();
    let action_items: Vec<NewActionItem> = v
        .at_most("meeting.action_items", &m.action_items, 200)
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
            NewActionItem {
                description: v.required_text(
                    &format!("meeting.action_items[{i}].description"),
                    &a.description,
                    5_000,
                ),
                owner: v.required_line(&format!("meeting.action_items[{i}].owner"), &a.owner, 200),
                due_at: due.unwrap_or(now),
            }
        })
        .collect();
    v.finish()?;
    let new = NewMeeting {
        department,
        title,
        held_at: held_at.unwrap_or(now),
        attendees,
        progress,
        problems,
        coordination,
        action_items,
    };
    let recorded = api.app.record_meeting(&call, new, meeting_to_pb).await?;
    Ok(Response::new(recorded))
}

pub async fn get(
    api: &WorkflowApi,
    r: Request<pb::GetMeetingRequest>,
) -> Result<Response<pb::Meeting>, Status> {
    authenticated(&r)?;
    let mut v = Violations::new();
    let id = v.resource_id("name", "meetings", &r.get_ref().name);
    v.finish()?;
    Ok(Response::new(meeting_to_pb(&api.app.meeting(&id).await?)))
}

pub async fn list(
    api: &WorkflowApi,
    r: Request<pb::ListMeetingsRequest>,
) -> Result<Response<pb::ListMeetingsResponse>, Status> {
    authenticated(&r)?;
    let mut v = Violations::new();
    let page = Page::of(r.get_ref(), &mut v);
    let department = v.optional_line("department", &r.get_ref().department, 100);
    v.finish()?;
    let department = Some(department.as_str()).filter(|d| !d.is_empty());
    let (meetings, next_page_token) = api.app.meetings(department, &page).await?;
    Ok(Response::new(pb::ListMeetingsResponse {
        meetings: meetings.iter().map(meeting_to_pb).collect(),
        next_page_token,
    }))
}
