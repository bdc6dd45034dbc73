//! Escalating what is overdue (§3.1.3): each open task past its time limit
//! is marked overdue and escalated to its department's head (it shows in
//! that head's overdue list), once, with a history entry and an event —
//! however many replicas sweep.

use procedo_platform::calendars::{Recompute, Stored};
use procedo_platform::db::Backend;
use procedo_platform::error::Error;
use procedo_platform::identity::{Actor, Clearance, Role};
use procedo_platform::outbox::{self, AUDIT, NewEvent};
use procedo_platform::time::Millis;
use procedo_platform::writes::Writes;
use procedo_proto::events;
use procedo_proto::workflow as pb;
use prost::Message as _;
use sqlx::AnyConnection;

use super::{App, SOURCE};
use crate::store::{self, NewHistory};

/// Tasks marked per transaction.
pub const SWEEP_BATCH: i64 = 200;

/// The actor workflow acts as on its own account: the deadline timer,
/// the built-in process definition it deploys at start.
pub fn own_actor() -> Actor {
    Actor {
        subject: "procedo-workflow".into(),
        name: "Procedo workflow".into(),
        title: String::new(),
        department: String::new(),
        roles: vec![Role::Service],
        approval_level: 0,
        clearance: Clearance::Internal,
    }
}

impl App {
    /// Marks what fell due; returns how many tasks.
    pub async fn sweep_deadlines(&self) -> Result<usize, Error> {
        let db = self.db();
        let now = self.now();
        let actor = own_actor();
        let mut tx = db.begin().await?;
        let overdue = store::mark_overdue(&mut tx, db.backend(), now, SWEEP_BATCH).await?;
        for task in &overdue {
            let event = pb::InstanceProgress {
                instance: task
                    .instance_id()
                    .map(|i| format!("instances/{i}"))
                    .unwrap_or_default(),
                step: task.step_id().to_owned(),
                step_name: task.title.clone(),
                task: task.resource(),
                department: task.department.clone(),
                ..pb::InstanceProgress::default()
            };
            if let Some(instance) = task.instance_id() {
                store::append_history(
                    &mut tx,
                    instance,
                    NewHistory {
                        action: "task_overdue",
                        step: task.step_id(),
                        detail: format!(
                            "escalated to the head of {}",
                            if task.department.is_empty() {
                                "the department"
                            } else {
                                &task.department
                            }
                        ),
                        task_id: &task.id,
                        ..NewHistory::default()
                    },
                    &actor,
                    now,
                )
                .await?;
            }
            outbox::enqueue(
                &mut tx,
                SOURCE,
                &actor,
                NewEvent {
                    destination: AUDIT,
                    event_type: events::workflow::TASK_OVERDUE,
                    subject: &task.resource(),
                    data_type: events::workflow::INSTANCE_PROGRESS,
                    data: event.encode_to_vec(),
                },
            )
            .await?;
            tracing::info!(task.id = %task.id, department = %task.department, "task overdue; escalated");
        }
        tx.commit().await?;
        self.mutations().committed();
        for instance in overdue.iter().filter_map(|t| t.instance_id()) {
            self.changed(instance);
        }
        Ok(overdue.len())
    }
}

/// Open tasks read at a time while recomputing.
const RECOMPUTE_BATCH: i64 = 500;

/// A new calendar version moves the due time of every open task that
/// counts on it, each move in its instance's history.
#[tonic::async_trait]
impl Recompute for App {
    async fn recompute(
        &self,
        tx: &mut AnyConnection,
        calendar: &Stored,
        actor: &Actor,
        now: Millis,
    ) -> Result<u64, Error> {
        let mut moved = 0;
        let mut after = String::new();
        loop {
            let batch = store::open_tasks(tx, &after, RECOMPUTE_BATCH).await?;
            for mut task in batch.iter().cloned() {
                let read_version = task.version;
                let Some(before) = task.follow_calendar(calendar) else {
                    continue;
                };
                let mut writes = Writes::new(Backend::of(tx));
                store::update_task(&mut writes, &task, read_version);
                writes.run(tx).await?;
                if let Some(instance) = task.instance_id() {
                    store::append_history(
                        tx,
                        instance,
                        NewHistory {
                            action: "deadline_moved",
                            step: task.step_id(),
                            detail: task.deadline.moved_note(before, calendar),
                            task_id: &task.id,
                            ..NewHistory::default()
                        },
                        actor,
                        now,
                    )
                    .await?;
                }
                moved += 1;
            }
            match batch.last() {
                Some(last) if batch.len() == RECOMPUTE_BATCH as usize => {
                    after.clone_from(&last.id);
                }
                _ => break,
            }
        }
        if moved > 0 {
            outbox::audit(
                tx,
                SOURCE,
                actor,
                "workflow.deadlines.recompute",
                &calendar.resource(),
                format!("version {}: {moved} due times moved", calendar.version),
            )
            .await?;
        }
        Ok(moved)
    }
}
