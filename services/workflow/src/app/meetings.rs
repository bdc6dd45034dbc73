//! Department meetings (§5.1): minutes, coordination items, and action
//! items that become tracked tasks with an owner and a due date.

use procedo_platform::deadline::Deadline;
use procedo_platform::error::Error;
use procedo_platform::outbox;
use procedo_platform::paging::Page;
use procedo_platform::writes::Writes;
use prost::Message;
use sqlx::AnyConnection;

use super::{App, Call, SOURCE};
use crate::convert::MeetingView;
use crate::domain::meeting::NewMeeting;
use crate::domain::task::Task;
use crate::store::{self, ActionItemRow, MeetingRow};

impl App {
    /// Records a meeting; its action items become tasks. The caller has
    /// checked the recorder may ([`crate::domain::meeting::may_record`]).
    pub async fn record_meeting<M: Message + Default>(
        &self,
        call: &Call,
        new: NewMeeting,
        respond: impl FnOnce(&MeetingView) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let now = self.now();
        let calendar = self.inner.calendars.default_calendar();
        let id = uuid::Uuid::now_v7().to_string();
        let mut action_items = Vec::with_capacity(new.action_items.len());
        let mut tasks = Vec::with_capacity(new.action_items.len());
        for item in new.action_items {
            let task = Task::action_item(
                uuid::Uuid::now_v7().to_string(),
                &id,
                &new.title,
                item.description.clone(),
                &new.department,
                item.owner.clone(),
                Deadline::until(now, item.due_at, &calendar),
                now,
            );
            action_items.push(ActionItemRow {
                description: item.description,
                owner: item.owner,
                due_at: item.due_at,
                task_id: task.id.clone(),
            });
            tasks.push(task);
        }
        let mut writes = Writes::new(self.db().backend());
        store::insert_tasks(&mut writes, &tasks);
        writes.run(&mut tx).await?;
        let meeting = MeetingRow {
            id: id.clone(),
            department: new.department,
            title: new.title,
            held_at: new.held_at,
            attendees: new.attendees,
            progress: new.progress,
            problems: new.problems,
            action_items,
            recorded_by: call.actor.clone(),
            created_at: now,
        };
        store::insert_meeting(&mut tx, &meeting).await?;
        for (problem, responsible) in &new.coordination {
            store::insert_coordination(
                &mut tx,
                None,
                Some(&id),
                problem,
                responsible,
                &call.actor,
                now,
            )
            .await?;
        }
        outbox::audit(
            &mut tx,
            SOURCE,
            &call.actor,
            "workflow.meetings.record",
            &format!("meetings/{id}"),
            meeting.department.clone(),
        )
        .await?;
        let view = view(&mut tx, meeting).await?;
        self.mutations().finish(tx, call, respond(&view)).await
    }

    pub async fn meeting(&self, id: &str) -> Result<MeetingView, Error> {
        let mut conn = self.db().reader().acquire().await?;
        let meeting = store::get_meeting(&mut conn, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("meetings/{id}")))?;
        view(&mut conn, meeting).await
    }

    /// Newest first, optionally of one department; the page and the next
    /// page's token.
    pub async fn meetings(
        &self,
        department: Option<&str>,
        page: &Page,
    ) -> Result<(Vec<MeetingView>, String), Error> {
        let mut rows = store::list_meetings(self.db(), department, page).await?;
        let next = page.finish(&mut rows, |m| m.id.clone());
        let mut conn = self.db().reader().acquire().await?;
        // The page's items in one statement, not one per meeting.
        let ids: Vec<String> = rows.iter().map(|m| m.id.clone()).collect();
        let mut items: std::collections::HashMap<String, Vec<store::CoordinationRow>> =
            std::collections::HashMap::new();
        for (meeting, item) in
            store::coordination_of(&mut conn, store::CoordinationOf::Meetings, &ids).await?
        {
            items.entry(meeting).or_default().push(item);
        }
        let views = rows
            .into_iter()
            .map(|meeting| MeetingView {
                coordination: items.remove(&meeting.id).unwrap_or_default(),
                meeting,
            })
            .collect();
        Ok((views, next))
    }
}

async fn view(conn: &mut AnyConnection, meeting: MeetingRow) -> Result<MeetingView, Error> {
    let coordination = store::coordination_items(conn, None, Some(&meeting.id)).await?;
    Ok(MeetingView {
        meeting,
        coordination,
    })
}
