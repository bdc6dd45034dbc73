//! Instances: started (once per business key), read by those who may see
//! them, watched, cancelled, and what happens around execution
//! (participants, coordination, supervision).

use std::time::Duration;

use std::collections::HashMap;

use procedo_platform::error::Error;
use procedo_platform::etag;
use procedo_platform::identity::Actor;
use procedo_platform::paging::Page;
use procedo_platform::time::Millis;
use prost::Message;
use sqlx::{Any, AnyConnection, Transaction};
use tokio::sync::mpsc;

use super::progress::Move;
use super::{App, Call, SOURCE, record};
use crate::convert::InstanceView;
use crate::domain::definition::StepKind;
use crate::domain::engine::{self, Carry};
use crate::domain::instance::{Form, Instance, InstanceStatus, Money, Participants};
use crate::domain::task::TaskStatus;
use crate::domain::visibility::Scope;
use crate::store::{self, HistoryRow, InstanceFilter, NewHistory};

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

/// Entries read per round trip while watching.
const WATCH_BATCH: i64 = 200;
/// How often a watcher looks for changes made by other replicas.
const WATCH_POLL: Duration = Duration::from_secs(1);

impl App {
    /// Starts an instance, or returns the one its business key already
    /// started.
    pub async fn start_instance<M: Message + Default>(
        &self,
        call: &Call,
        new: NewInstance,
        respond: impl FnOnce(&InstanceView) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let (instance, _) = self.start(&mut tx, new, &call.actor, self.now()).await?;
        self.finish_instance(tx, call, instance, respond).await
    }

    /// Starts an instance unless one exists for the business key, in `tx`;
    /// returns the instance and whether it is new.
    pub async fn start(
        &self,
        tx: &mut AnyConnection,
        new: NewInstance,
        actor: &Actor,
        now: Millis,
    ) -> Result<(Instance, bool), Error> {
        if let Some(existing) = store::find_by_business_key(tx, &new.business_key).await? {
            return Ok((existing, false));
        }
        let def = self.definition(tx, &new.process_key, None).await?;
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
            history_seq: 0,
        };
        if store::insert_instances(tx, std::slice::from_ref(&instance)).await? == 0 {
            // Another start with the same business key committed first.
            let existing = store::find_by_business_key(tx, &instance.business_key)
                .await?
                .ok_or_else(|| {
                    Error::Conflict(format!("instance for {}", instance.business_key))
                })?;
            return Ok((existing, false));
        }
        let resource = instance.resource();
        let calendar = self.inner.calendars.default_calendar();
        let mut m = Move::new(tx, &def, &mut instance, actor, now, &calendar);
        m.record(NewHistory {
            action: "started",
            detail: def.resource(),
            ..NewHistory::default()
        });
        m.enter(&def.start_step, &Carry::default()).await?;
        m.events.audit(
            SOURCE,
            actor,
            "workflow.instances.start",
            &resource,
            def.resource(),
        );
        m.save().await?;
        Ok((instance, true))
    }

    /// Instance `id`, when `actor` may see it.
    pub async fn instance(&self, actor: &Actor, id: &str) -> Result<InstanceView, Error> {
        let mut conn = self.db().reader().acquire().await?;
        let instance = load(&mut conn, id).await?;
        let view = view(&mut conn, instance).await?;
        if Scope::of(actor).sees_instance(&view.instance, &view.tasks) {
            Ok(view)
        } else {
            Err(Error::Denied(format!(
                "{} is not one your department takes part in",
                view.instance.resource()
            )))
        }
    }

    /// The instances `actor` may see that `filter` selects, newest first;
    /// the page and the next page's token.
    pub async fn instances(
        &self,
        actor: &Actor,
        filter: &InstanceFilter,
        page: &Page,
    ) -> Result<(Vec<InstanceView>, String), Error> {
        let scope = Scope::of(actor);
        page.fill(
            |before, limit| async move {
                let instances =
                    store::list_instances(self.db(), filter, before.as_deref(), limit).await?;
                let mut conn = self.db().reader().acquire().await?;
                views(&mut conn, instances).await
            },
            |v: &InstanceView| scope.sees_instance(&v.instance, &v.tasks),
            |v| v.instance.id.clone(),
        )
        .await
    }

    /// Ends a running instance early; its open tasks are cancelled.
    pub async fn cancel_instance<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        reason: String,
        respond: impl FnOnce(&InstanceView) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut instance = load_for_change(&mut tx, self.db().backend(), id).await?;
        let resource = instance.resource();
        etag::check(&resource, given_etag, instance.version)?;
        instance.steerable_by(&call.actor).map_err(Error::Denied)?;
        let def = self
            .definition(
                &mut tx,
                &instance.definition_key,
                Some(instance.definition_version),
            )
            .await?;
        let calendar = self.inner.calendars.default_calendar();
        let mut m = Move::new(
            &mut tx,
            &def,
            &mut instance,
            &call.actor,
            self.now(),
            &calendar,
        );
        m.cancel(reason.clone()).await?;
        m.events.audit(
            SOURCE,
            &call.actor,
            "workflow.instances.cancel",
            &resource,
            reason,
        );
        m.save().await?;
        self.finish_instance(tx, call, instance, respond).await
    }

    /// Replaces the participants; a running joint review takes the new
    /// reviewers at once.
    pub async fn update_participants<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        participants: Participants,
        respond: impl FnOnce(&InstanceView) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut instance = load_for_change(&mut tx, self.db().backend(), id).await?;
        let resource = instance.resource();
        instance.steerable_by(&call.actor).map_err(Error::Denied)?;
        instance
            .require_running("change the participants of")
            .map_err(|t| Error::illegal(&resource, t))?;
        let def = self
            .definition(
                &mut tx,
                &instance.definition_key,
                Some(instance.definition_version),
            )
            .await?;
        instance.participants = participants.clone();
        let now = self.now();
        let tasks = store::instance_tasks(&mut tx, &instance.id).await?;
        let review = tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Open)
            .filter_map(|t| t.step_work())
            .find(|w| w.kind == StepKind::Countersign)
            .map(|w| (w.step.clone(), w.visit));
        let calendar = self.inner.calendars.default_calendar();
        let mut m = Move::new(&mut tx, &def, &mut instance, &call.actor, now, &calendar);
        if let Some((step_id, visit)) = review
            && let Some(step) = def.step(&step_id)
        {
            let round: Vec<_> = tasks
                .iter()
                .filter(|t| {
                    t.step_work()
                        .is_some_and(|w| w.step == step_id && w.visit == visit)
                })
                .cloned()
                .collect();
            for task in engine::join_review(&*m.instance, step, &round, visit, m.clock()) {
                m.open(task);
            }
        }
        m.save().await?;
        record_beside(
            &mut tx,
            id,
            "participants_changed",
            "participants",
            participants.summary(),
            &call.actor,
            now,
        )
        .await?;
        self.finish_instance(tx, call, instance, respond).await
    }

    /// Raises a problem for `department` to act on during execution
    /// (§3.2.4).
    pub async fn add_coordination_item<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        problem: String,
        department: String,
        respond: impl FnOnce(&InstanceView) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let instance = running(
            &mut tx,
            self.db().backend(),
            id,
            "add a coordination item to",
        )
        .await?;
        let now = self.now();
        store::insert_coordination(
            &mut tx,
            Some(id),
            None,
            &problem,
            &department,
            &call.actor,
            now,
        )
        .await?;
        record_beside(
            &mut tx,
            id,
            "coordination_item_added",
            "coordinate",
            format!("{department}: {problem}"),
            &call.actor,
            now,
        )
        .await?;
        self.finish_instance(tx, call, instance, respond).await
    }

    pub async fn resolve_coordination_item<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        item: &str,
        resolution: String,
        respond: impl FnOnce(&InstanceView) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let instance = running(
            &mut tx,
            self.db().backend(),
            id,
            "resolve a coordination item of",
        )
        .await?;
        let now = self.now();
        if !store::resolve_coordination(&mut tx, id, item, &resolution, now).await? {
            return Err(Error::NotFound(format!(
                "open coordination item {item} of {}",
                instance.resource()
            )));
        }
        record_beside(
            &mut tx,
            id,
            "coordination_item_resolved",
            "resolve_coordination",
            resolution,
            &call.actor,
            now,
        )
        .await?;
        self.finish_instance(tx, call, instance, respond).await
    }

    /// Records a supervising department's visit (§3.2.4).
    pub async fn add_supervision_record<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        findings: String,
        respond: impl FnOnce(&InstanceView) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let instance = running(&mut tx, self.db().backend(), id, "supervise").await?;
        let now = self.now();
        store::insert_supervision(&mut tx, id, &findings, &call.actor, now).await?;
        record_beside(
            &mut tx,
            id,
            "supervised",
            "supervise",
            format!("{}: {findings}", call.actor.department),
            &call.actor,
            now,
        )
        .await?;
        self.finish_instance(tx, call, instance, respond).await
    }

    /// The history of instance `id` after `after`, then every new entry as
    /// it is written, until the instance ends or `out` closes. Checks that
    /// `actor` may see the instance before anything is sent.
    pub async fn watch(
        &self,
        actor: &Actor,
        id: &str,
        mut after: i64,
        out: mpsc::Sender<Result<HistoryRow, Error>>,
    ) -> Result<(), Error> {
        self.instance(actor, id).await?;
        // Subscribe before the first read, so no change falls between them.
        let mut changes = self.watch_changes(id);
        let db = self.db().clone();
        let id = id.to_owned();
        tokio::spawn(async move {
            loop {
                let entries = match store::history_after(&db, &id, after, WATCH_BATCH).await {
                    Ok(entries) => entries,
                    Err(e) => {
                        let _ = out.send(Err(e.into())).await;
                        return;
                    }
                };
                let fetched = entries.len();
                let mut ended = false;
                for entry in entries {
                    after = entry.seq;
                    ended |= matches!(entry.action.as_str(), "completed" | "cancelled");
                    if out.send(Ok(entry)).await.is_err() {
                        return;
                    }
                }
                if ended {
                    return;
                }
                if fetched == 0 && !still_running(&db, &id).await {
                    // Watching from past the end of a finished instance.
                    return;
                }
                if i64::try_from(fetched).unwrap_or(i64::MAX) == WATCH_BATCH {
                    continue;
                }
                // Wait for a change to this instance, a poll tick (changes
                // made by other replicas), or the watcher leaving.
                tokio::select! {
                    () = changes.changed() => {}
                    () = tokio::time::sleep(WATCH_POLL) => {}
                    () = out.closed() => return,
                }
            }
        });
        Ok(())
    }
}

async fn still_running(db: &procedo_platform::db::Database, id: &str) -> bool {
    let Ok(mut conn) = db.reader().acquire().await else {
        return true;
    };
    matches!(store::get_instance(&mut conn, id).await, Ok(Some(i)) if i.status == InstanceStatus::Running)
}

impl App {
    /// Finishes a change of `instance`: its view answers the call, and its
    /// watchers hear of it once committed.
    async fn finish_instance<M: Message>(
        &self,
        mut tx: Transaction<'static, Any>,
        call: &Call,
        instance: Instance,
        respond: impl FnOnce(&InstanceView) -> M,
    ) -> Result<M, Error> {
        let view = view(&mut tx, instance).await?;
        let response = self.mutations().finish(tx, call, respond(&view)).await?;
        self.changed(&view.instance.id);
        Ok(response)
    }
}

/// Records a change beside the process (participants, coordination,
/// supervision): its history entry `action` and its audit record
/// `workflow.instances.<audit>`.
async fn record_beside(
    tx: &mut AnyConnection,
    id: &str,
    action: &str,
    audit: &str,
    detail: String,
    actor: &Actor,
    now: Millis,
) -> Result<(), Error> {
    let entry = NewHistory {
        action,
        detail,
        ..NewHistory::default()
    };
    let audit = format!("workflow.instances.{audit}");
    record(
        tx,
        Some(id),
        entry,
        &audit,
        &format!("instances/{id}"),
        actor,
        now,
    )
    .await
}

/// The instance with its tasks, coordination items and supervision records.
pub(super) async fn view(
    conn: &mut AnyConnection,
    instance: Instance,
) -> Result<InstanceView, Error> {
    let id = instance.id.clone();
    views(conn, vec![instance])
        .await?
        .pop()
        .ok_or_else(|| Error::unexpected(format!("instances/{id} has no view")))
}

/// The views of a page of `instances`: their children in one statement
/// each, not three per instance.
pub(super) async fn views(
    conn: &mut AnyConnection,
    instances: Vec<Instance>,
) -> Result<Vec<InstanceView>, Error> {
    let ids: Vec<String> = instances.iter().map(|i| i.id.clone()).collect();
    let mut tasks: HashMap<String, Vec<crate::domain::task::Task>> = HashMap::new();
    for task in store::tasks_of_instances(conn, &ids).await? {
        if let Some(instance) = task.instance_id() {
            tasks.entry(instance.to_owned()).or_default().push(task);
        }
    }
    let mut coordination: HashMap<String, Vec<store::CoordinationRow>> = HashMap::new();
    for (instance, row) in
        store::coordination_of(conn, store::CoordinationOf::Instances, &ids).await?
    {
        coordination.entry(instance).or_default().push(row);
    }
    let mut supervision: HashMap<String, Vec<store::SupervisionRow>> = HashMap::new();
    for (instance, row) in store::supervision_of_instances(conn, &ids).await? {
        supervision.entry(instance).or_default().push(row);
    }
    Ok(instances
        .into_iter()
        .map(|instance| InstanceView {
            tasks: tasks.remove(&instance.id).unwrap_or_default(),
            coordination: coordination.remove(&instance.id).unwrap_or_default(),
            supervision: supervision.remove(&instance.id).unwrap_or_default(),
            instance,
        })
        .collect())
}

pub(super) async fn load(conn: &mut AnyConnection, id: &str) -> Result<Instance, Error> {
    store::get_instance(conn, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("instances/{id}")))
}

/// Reads the instance for a change, locked (PostgreSQL).
pub(super) async fn load_for_change(
    tx: &mut AnyConnection,
    backend: procedo_platform::db::Backend,
    id: &str,
) -> Result<Instance, Error> {
    store::lock_instance(tx, backend, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("instances/{id}")))
}

async fn running(
    tx: &mut AnyConnection,
    backend: procedo_platform::db::Backend,
    id: &str,
    action: &'static str,
) -> Result<Instance, Error> {
    let instance = load_for_change(tx, backend, id).await?;
    instance
        .require_running(action)
        .map_err(|t| Error::illegal(instance.resource(), t))?;
    Ok(instance)
}
