//! Moving an instance: entering a step (resolving the approval chain when
//! it is an approval), following a decision, ending the process — each with
//! its history entry, its tasks and its events, in the use case's
//! transaction.

use procedo_platform::calendars::Stored;
use procedo_platform::db::Backend;
use procedo_platform::identity::Actor;
use procedo_platform::outbox::{self, NewEvent};
use procedo_platform::time::Millis;
use procedo_platform::writes::Writes;
use procedo_proto::events;
use procedo_proto::workflow as pb;
use prost::Message as _;
use sqlx::AnyConnection;

use procedo_platform::error::Error;

use crate::convert;
use crate::domain::definition::{Definition, EdgeKind, StepKind};
use crate::domain::engine::{self, Carry, Clock, NewTask, Next};
use crate::domain::instance::{Instance, InstanceStatus};
use crate::domain::task::Task;
use crate::store::{self, NewHistory};

/// Where workflow's events say they come from.
pub const SOURCE: &str = "procedo.workflow";

/// One change to one instance, in one transaction: its task changes,
/// history entries and events are gathered as it goes and written with
/// the instance when it is saved ([`Move::save`]), together (one statement
/// on PostgreSQL).
#[derive(Debug)]
pub(super) struct Move<'a> {
    pub tx: &'a mut AnyConnection,
    pub def: &'a Definition,
    pub instance: &'a mut Instance,
    pub actor: &'a Actor,
    pub now: Millis,
    pub calendar: &'a Stored,
    history: store::HistoryBatch,
    /// Events to queue with the change (more may be added before saving).
    pub events: outbox::Batch,
    writes: Writes,
    /// Tasks this change updates: cancelling the instance's open tasks
    /// leaves them to their own update.
    updated: Vec<String>,
    /// The instance's version and history count as read.
    read: (i64, i64),
}

impl<'a> Move<'a> {
    /// A change to `instance`, as read (locked) in `tx`.
    pub fn new(
        tx: &'a mut AnyConnection,
        def: &'a Definition,
        instance: &'a mut Instance,
        actor: &'a Actor,
        now: Millis,
        calendar: &'a Stored,
    ) -> Move<'a> {
        let read = (instance.version, instance.history_seq);
        let writes = Writes::new(Backend::of(tx));
        Move {
            tx,
            def,
            instance,
            actor,
            now,
            calendar,
            history: store::HistoryBatch::default(),
            events: outbox::Batch::default(),
            writes,
            updated: Vec::new(),
            read,
        }
    }

    /// Adds `entry` to the instance's history; its sequence number.
    pub fn record(&mut self, entry: NewHistory<'_>) -> i64 {
        self.history
            .push(self.instance, entry, self.actor, self.now)
    }

    pub fn clock(&self) -> Clock<'_> {
        Clock {
            now: self.now,
            calendar: self.calendar,
        }
    }

    /// Enters `step_id`: records the visit and opens its tasks.
    pub async fn enter(&mut self, step_id: &str, carry: &Carry) -> Result<(), Error> {
        let resource = self.instance.resource();
        let step = self.def.step(step_id).ok_or_else(|| Error::Precondition {
            kind: "DEFINITION",
            resource: resource.clone(),
            description: format!("the definition has no step {step_id}"),
        })?;
        if step.kind == StepKind::Approval {
            self.resolve_chain().await?;
        }
        let visit = self.record(NewHistory {
            action: "step_entered",
            step: &step.id,
            detail: step.name.clone(),
            ..NewHistory::default()
        });
        let round: Vec<Task> = engine::enter(self.instance, step, visit, carry, self.clock())
            .into_iter()
            .map(|new| self.task_of(new))
            .collect();
        store::insert_tasks(&mut self.writes, &round);
        self.progress(
            events::workflow::INSTANCE_STAGE_REACHED,
            visit,
            &step.id,
            &step.name,
        );
        Ok(())
    }

    /// Opens one task.
    pub fn open(&mut self, new: NewTask) {
        let task = self.task_of(new);
        store::insert_tasks(&mut self.writes, std::slice::from_ref(&task));
    }

    /// Writes `task`'s change, if it is still at `read_version`.
    pub fn update_task(&mut self, task: &Task, read_version: i64) {
        store::update_task(&mut self.writes, task, read_version);
        self.updated.push(task.id.clone());
    }

    fn cancel_open_tasks(&mut self) {
        let except: Vec<&str> = self.updated.iter().map(String::as_str).collect();
        store::cancel_open_tasks(&mut self.writes, &self.instance.id, self.now, &except);
    }

    fn task_of(&self, new: NewTask) -> Task {
        let id = uuid::Uuid::now_v7().to_string();
        Task::of_step(id, &self.instance.id, new, self.now)
    }

    /// Follows what a completed task leads to.
    pub async fn apply(&mut self, next: Next) -> Result<(), Error> {
        match next {
            Next::Wait => Ok(()),
            Next::Open(task) => {
                self.open(*task);
                Ok(())
            }
            Next::Go {
                to,
                via,
                carry,
                decision,
            } => {
                self.cancel_open_tasks();
                if via != EdgeKind::Forward {
                    let action = if via == EdgeKind::SendBack {
                        "sent_back"
                    } else {
                        "rectified"
                    };
                    self.record(NewHistory {
                        action,
                        step: to.as_deref().unwrap_or(""),
                        decision: decision.as_str(),
                        detail: carry.prior_opinions.join("\n"),
                        ..NewHistory::default()
                    });
                }
                match to {
                    Some(step) => self.enter(&step, &carry).await,
                    None => self.complete().await,
                }
            }
        }
    }

    async fn complete(&mut self) -> Result<(), Error> {
        self.instance.status = InstanceStatus::Completed;
        self.instance.ended_at = Some(self.now);
        let sequence = self.record(NewHistory {
            action: "completed",
            ..NewHistory::default()
        });
        self.progress(events::workflow::INSTANCE_COMPLETED, sequence, "", "");
        Ok(())
    }

    /// Ends a running instance early.
    pub async fn cancel(&mut self, reason: String) -> Result<(), Error> {
        let resource = self.instance.resource();
        self.instance
            .cancel(reason.clone(), self.now)
            .map_err(|t| Error::illegal(&resource, t))?;
        self.cancel_open_tasks();
        let sequence = self.record(NewHistory {
            action: "cancelled",
            detail: reason,
            ..NewHistory::default()
        });
        self.progress(events::workflow::INSTANCE_CANCELLED, sequence, "", "");
        Ok(())
    }

    /// The approval levels the matrix in force requires for this business.
    async fn resolve_chain(&mut self) -> Result<(), Error> {
        let resource = self.instance.resource();
        let precondition = |description: String| Error::Precondition {
            kind: "AUTHORIZATION_MATRIX",
            resource: resource.clone(),
            description,
        };
        let Some(matrix) = super::matrix::in_force(self.tx, None, self.now).await? else {
            return Err(precondition(
                "no authorisation matrix is in force; publish one first".into(),
            ));
        };
        self.instance.approval_chain = matrix
            .chain_for(&self.instance.business_type, self.instance.amount.as_ref())
            .map_err(|no| precondition(no.describe()))?;
        self.instance.matrix_version = matrix.version;
        Ok(())
    }

    /// Tells the service that started the instance how it is going.
    fn progress(&mut self, event_type: &str, sequence: i64, step: &str, step_name: &str) {
        if self.instance.origin.is_empty() {
            return;
        }
        let data = pb::InstanceProgress {
            instance: self.instance.resource(),
            business_key: self.instance.business_key.clone(),
            status: convert::instance_status_to_pb(self.instance.status) as i32,
            step: step.to_owned(),
            step_name: step_name.to_owned(),
            sequence,
            ..pb::InstanceProgress::default()
        };
        let origin = self.instance.origin.clone();
        self.events.enqueue(
            SOURCE,
            self.actor,
            NewEvent {
                destination: &origin,
                event_type,
                subject: &data.instance,
                data_type: events::workflow::INSTANCE_PROGRESS,
                data: data.encode_to_vec(),
            },
        );
    }

    /// Writes the instance back, bumping its version, with its tasks, its
    /// new history entries and its events. A new instance is saved once it
    /// is inserted.
    pub async fn save(mut self) -> Result<(), Error> {
        let (read_version, read_history) = self.read;
        self.instance.version = read_version + 1;
        self.instance.updated_at = self.now;
        store::update_instance(&mut self.writes, self.instance, read_version, read_history);
        self.history.push_into(&mut self.writes, &self.instance.id);
        self.events.push_into(&mut self.writes);
        self.writes.run(self.tx).await
    }
}
