//! Tasks: listed for those who may see them, claimed, completed with a
//! decision and a signed opinion (which moves the instance on), reassigned
//! by the department's head and delegated by their assignee.

use procedo_platform::error::Error;
use procedo_platform::etag;
use procedo_platform::identity::{Actor, Role};
use procedo_platform::outbox;
use procedo_platform::paging::Page;
use procedo_platform::time::Millis;
use procedo_platform::writes::Writes;
use prost::Message;
use sqlx::AnyConnection;

use super::progress::Move;
use super::{App, Call, SOURCE, record, refused};
use crate::domain::engine::{self, Clock, Completion};
use crate::domain::instance::Form;
use crate::domain::task::{Refusal, StepWork, Task, TaskStatus};
use crate::domain::visibility::Scope;
use crate::store::{self, NewHistory, TaskFilter, ViewerRows};

/// Which tasks a caller asks for; every one narrows.
#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    pub filter: TaskFilter,
    /// Only those the caller may act on now (their work queue).
    pub actionable: bool,
}

impl App {
    /// The tasks `actor` may see that `query` selects, oldest first; the
    /// page and the next page's token.
    pub async fn tasks(
        &self,
        actor: &Actor,
        mut query: TaskQuery,
        page: &Page,
    ) -> Result<(Vec<Task>, String), Error> {
        let scope = Scope::of(actor);
        query.filter.viewer = scope.viewer().map(|a| ViewerRows {
            subject: a.subject.clone(),
            department: a.department.clone(),
            roles: a.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        });
        if query.actionable {
            // Only open tasks are acted on; the store reads the caller's
            // own and the unclaimed ones of their roles off the open-task
            // indexes instead of every task they can see.
            match query.filter.status {
                None | Some(TaskStatus::Open) => query.filter.status = Some(TaskStatus::Open),
                Some(_) => return Ok((Vec::new(), String::new())),
            }
            if !actor.has(Role::Admin) {
                query.filter.actionable_by = Some(ViewerRows {
                    subject: actor.subject.clone(),
                    department: actor.department.clone(),
                    roles: actor.roles.iter().map(|r| r.as_str().to_owned()).collect(),
                });
            }
        }
        let filter = &query.filter;
        page.fill(
            |after, limit| async move {
                store::list_tasks(self.db(), filter, after.as_deref(), limit).await
            },
            |t: &Task| scope.sees_task(t) && (!query.actionable || t.actionable_by(actor)),
            |t| t.id.clone(),
        )
        .await
        .map_err(Error::from)
    }

    /// Task `id`, when `actor` may see it.
    pub async fn task(&self, actor: &Actor, id: &str) -> Result<Task, Error> {
        let mut conn = self.db().reader().acquire().await?;
        let task = load(&mut conn, id).await?;
        if Scope::of(actor).sees_task(&task) {
            Ok(task)
        } else {
            Err(Error::Denied(format!(
                "{} belongs to another department and is not yours to act on",
                task.resource()
            )))
        }
    }

    pub async fn claim_task<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        respond: impl FnOnce(&Task) -> M,
    ) -> Result<M, Error> {
        self.change_task(call, id, "task_claimed", "claim", respond, |task, actor| {
            task.claim(actor).map(|()| String::new())
        })
        .await
    }

    /// The head of the task's department hands it to `assignee`.
    pub async fn reassign_task<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        assignee: String,
        reason: String,
        respond: impl FnOnce(&Task) -> M,
    ) -> Result<M, Error> {
        self.change_task(
            call,
            id,
            "task_reassigned",
            "reassign",
            respond,
            |task, actor| {
                let to = assignee.clone();
                task.reassign(assignee, actor)
                    .map(|previous| format!("{previous} → {to}: {reason}"))
            },
        )
        .await
    }

    /// The assignee hands the task to `delegate`.
    pub async fn delegate_task<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        delegate: String,
        reason: String,
        respond: impl FnOnce(&Task) -> M,
    ) -> Result<M, Error> {
        self.change_task(
            call,
            id,
            "task_delegated",
            "delegate",
            respond,
            |task, actor| {
                let detail = format!("{} → {delegate}: {reason}", actor.subject);
                task.delegate(delegate, actor).map(|()| detail)
            },
        )
        .await
    }

    /// Applies `change` (which returns the history detail) to task `id`
    /// and records it: the instance's history entry `action` and the audit
    /// record `workflow.tasks.<audit>`.
    async fn change_task<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        action: &str,
        audit: &str,
        respond: impl FnOnce(&Task) -> M,
        change: impl FnOnce(&mut Task, &Actor) -> Result<String, Refusal>,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut task = self.load_for_change(&mut tx, id).await?;
        let read_version = task.version;
        let resource = task.resource();
        let detail = change(&mut task, &call.actor).map_err(|r| refused(&resource, r))?;
        let mut writes = Writes::new(self.db().backend());
        store::update_task(&mut writes, &task, read_version);
        writes.run(&mut tx).await?;
        record(
            &mut tx,
            task.instance_id(),
            NewHistory {
                action,
                step: task.step_id(),
                detail,
                task_id: &task.id,
                ..NewHistory::default()
            },
            &format!("workflow.tasks.{audit}"),
            &resource,
            &call.actor,
            self.now(),
        )
        .await?;
        let response = self.mutations().finish(tx, call, respond(&task)).await?;
        if let Some(instance) = task.instance_id() {
            self.changed(instance);
        }
        Ok(response)
    }

    /// Completes task `id` with `completion`, signed by the caller: an
    /// action item simply closes; a step task moves its instance on as the
    /// engine decides. `form` replaces the initiation form when the task is
    /// the start step's.
    pub async fn complete_task<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        completion: Completion,
        form: Option<Form>,
        respond: impl FnOnce(&Task) -> M,
    ) -> Result<M, Error> {
        // Asked before the transaction: no lock is held while the document
        // service answers.
        self.check_documents(call, id, &completion).await?;
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let now = self.now();
        // The instance first, locked, so that siblings completed at the same
        // time see each other; then the task with its round.
        let instance = store::lock_instance_of_task(&mut tx, self.db().backend(), id).await?;
        let round = store::task_with_round(&mut tx, id).await?;
        let mut task = round
            .iter()
            .find(|t| t.id == id)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("tasks/{id}")))?;
        let resource = task.resource();
        etag::check(&resource, given_etag, task.version)?;
        let read_version = task.version;
        match (task.step_work().cloned(), instance) {
            (None, _) => {
                let calendar = self.inner.calendars.default_calendar();
                task.complete_action_item(&completion, &call.actor, now, &calendar)
                    .map_err(|r| refused(&resource, r))?;
                let mut writes = Writes::new(self.db().backend());
                store::update_task(&mut writes, &task, read_version);
                let mut events = outbox::Batch::default();
                events.audit(
                    SOURCE,
                    &call.actor,
                    "workflow.tasks.complete",
                    &resource,
                    completion_detail(&task),
                );
                events.push_into(&mut writes);
                writes.run(&mut tx).await?;
            }
            (Some(work), Some(instance)) => {
                task.check_completer(&call.actor)
                    .map_err(|r| refused(&resource, r))?;
                let step = Completing {
                    instance,
                    round,
                    work,
                    completion,
                    form,
                };
                self.complete_step(&mut tx, &mut task, step, &call.actor, now)
                    .await?;
            }
            (Some(work), None) => {
                return Err(Error::NotFound(format!("instances/{}", work.instance_id)));
            }
        }
        let response = self.mutations().finish(tx, call, respond(&task)).await?;
        if let Some(instance) = task.instance_id() {
            self.changed(instance);
        }
        Ok(response)
    }

    /// Completes step task `task` of `step.instance` (read under its lock),
    /// moving the instance on as the engine decides; the task, the
    /// instance, their history and the events are written a statement each.
    async fn complete_step(
        &self,
        tx: &mut AnyConnection,
        task: &mut Task,
        step: Completing,
        actor: &Actor,
        now: Millis,
    ) -> Result<(), Error> {
        let Completing {
            mut instance,
            mut round,
            work,
            completion,
            form,
        } = step;
        let resource = instance.resource();
        instance
            .require_running("complete a task of")
            .map_err(|t| Error::illegal(&resource, t))?;
        let def = self
            .definition(
                tx,
                &instance.definition_key,
                Some(instance.definition_version),
            )
            .await?;
        let step = def
            .step(&work.step)
            .ok_or_else(|| Error::NotFound(format!("step {} of {}", work.step, def.resource())))?;
        engine::check_turn(task, &work, &round)
            .map_err(|o| refused(&task.resource(), Refusal::OutOfTurn(o.0)))?;
        let decision = engine::check_completion(&def, step, &round, &completion)
            .map_err(|u| refused(&task.resource(), Refusal::Unfit(u)))?;

        let calendar = self.inner.calendars.default_calendar();
        let read_task = task.version;
        task.complete(decision, &completion, actor, now, &calendar);
        for t in round.iter_mut().filter(|t| t.id == task.id) {
            *t = task.clone();
        }
        instance.take_completion(&def, step, task, form);
        let clock = Clock {
            now,
            calendar: &calendar,
        };
        let next = engine::decide(
            &def,
            &instance,
            step,
            task,
            &work,
            &completion,
            &round,
            clock,
        );
        if next.passes_acceptance(step) {
            instance.record_acceptance(&round);
        }
        let mut m = Move::new(tx, &def, &mut instance, actor, now, &calendar);
        m.update_task(task, read_task);
        m.record(NewHistory {
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
        });
        m.apply(next).await?;
        tell_compliance(&mut m.events, actor, task, &work);
        m.events.audit(
            SOURCE,
            actor,
            "workflow.tasks.complete",
            &task.resource(),
            completion_detail(task),
        );
        m.save().await
    }

    /// With a document service configured: the document a completion
    /// names exists and the completer sees it; a passed acceptance's report
    /// carries the acceptor's signature.
    async fn check_documents(
        &self,
        call: &Call,
        id: &str,
        completion: &Completion,
    ) -> Result<(), Error> {
        let Some(documents) = &self.inner.documents else {
            return Ok(());
        };
        if completion.document.trim().is_empty() {
            // The engine says when one is required.
            return Ok(());
        }
        let step = {
            let mut conn = self.db().reader().acquire().await?;
            let task = load(&mut conn, id).await?;
            let Some(work) = task.step_work().cloned() else {
                return Ok(());
            };
            let instance = super::instances::load(&mut conn, &work.instance_id).await?;
            let def = self
                .definition(
                    &mut conn,
                    &instance.definition_key,
                    Some(instance.definition_version),
                )
                .await?;
            def.step(&work.step).cloned()
        };
        let Some(step) = step else {
            return Ok(());
        };
        let accepts = step.kind == crate::domain::definition::StepKind::Acceptance
            && completion.decision == Some(crate::domain::definition::Decision::Pass);
        if !(step.requires_document || accepts) {
            return Ok(());
        }
        let signed_by = accepts.then_some(call.actor.subject.as_str());
        documents
            .check(
                "document",
                &completion.document,
                call.bearer.as_deref(),
                signed_by,
            )
            .await
    }

    /// Reads a task for a change, holding its instance's lock first so that
    /// siblings changed at the same time see each other.
    async fn load_for_change(&self, tx: &mut AnyConnection, id: &str) -> Result<Task, Error> {
        store::lock_instance_of_task(tx, self.db().backend(), id).await?;
        load(tx, id).await
    }
}

async fn load(conn: &mut AnyConnection, id: &str) -> Result<Task, Error> {
    store::get_task(conn, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("tasks/{id}")))
}

/// A step task's completion, with what was read for it under the
/// instance's lock.
struct Completing {
    instance: crate::domain::instance::Instance,
    /// Every task of the step's round, the completed one included.
    round: Vec<Task>,
    work: StepWork,
    completion: Completion,
    form: Option<Form>,
}

/// The audit detail of a completion: the step and the decision.
fn completion_detail(task: &Task) -> String {
    format!(
        "{} {}",
        task.step_id(),
        task.decision.map_or("", |d| d.as_str())
    )
    .trim()
    .to_owned()
}

/// Destination of what the compliance service's assessment counts.
const COMPLIANCE: &str = "compliance";

/// Queues the completed step task for the compliance service: its due and
/// completion times, its decision, and which round of its step it was.
fn tell_compliance(events: &mut outbox::Batch, actor: &Actor, task: &Task, work: &StepWork) {
    use procedo_platform::time::to_timestamp;
    let completed = procedo_proto::workflow::TaskCompleted {
        task: task.resource(),
        instance: format!("instances/{}", work.instance_id),
        step: work.step.clone(),
        step_name: task.title.clone(),
        step_kind: work.kind.as_str().to_owned(),
        visit: work.visit,
        department: task.department.clone(),
        assignee: actor.subject.clone(),
        due_time: Some(to_timestamp(task.deadline.due)),
        complete_time: task.completed_at.map(to_timestamp),
        decision: task.decision.map_or("COMPLETE", |d| d.as_str()).to_owned(),
    };
    events.enqueue(
        SOURCE,
        actor,
        outbox::NewEvent {
            destination: COMPLIANCE,
            event_type: procedo_proto::events::workflow::TASK_COMPLETED,
            subject: &completed.task,
            data_type: procedo_proto::events::workflow::TASK_COMPLETION,
            data: completed.encode_to_vec(),
        },
    );
}
