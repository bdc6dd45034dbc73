//! The deadline timer (§3.1.3): marks open tasks past their time limit as
//! overdue, escalates them to the responsible department's head (they show
//! in that head's overdue list), records it in the instance's history and
//! emits an event — once per task, however many replicas run the timer,
//! and again after a restart for whatever fell due meanwhile.

use std::time::Duration;

use procedo_platform::identity::{Actor, Clearance, Role};
use procedo_platform::outbox::{self, AUDIT, NewEvent};
use procedo_platform::shutdown::Shutdown;
use procedo_platform::time;
use procedo_proto::events;
use procedo_proto::workflow as pb;
use prost::Message as _;

use crate::api::WorkflowApi;
use crate::api::progress::SOURCE;
use crate::store::{self, NewHistory};

/// Tasks marked per transaction.
const BATCH: i64 = 200;

/// The actor the timer acts as.
pub fn timer_actor() -> Actor {
    Actor {
        subject: "procedo-workflow".into(),
        name: "Procedo workflow deadline timer".into(),
        title: String::new(),
        department: String::new(),
        roles: vec![Role::Service],
        approval_level: 0,
        clearance: Clearance::Internal,
    }
}

/// Sweeps every `interval` until `shutdown`.
pub async fn run(api: WorkflowApi, interval: Duration, shutdown: Shutdown) {
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        match sweep(&api).await {
            Ok(n) if n as i64 == BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "deadline sweep failed; retrying"),
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// Marks what fell due; returns how many tasks.
pub async fn sweep(api: &WorkflowApi) -> Result<usize, sqlx::Error> {
    let db = api.db();
    let now = time::now();
    let actor = timer_actor();
    let mut tx = db.begin().await?;
    let overdue = store::mark_overdue(&mut tx, db.backend(), now, BATCH).await?;
    for task in &overdue {
        let event = pb::InstanceProgress {
            instance: task
                .instance_id
                .as_ref()
                .map(|i| format!("instances/{i}"))
                .unwrap_or_default(),
            step: task.step.clone(),
            step_name: task.title.clone(),
            task: task.resource(),
            department: task.department.clone(),
            ..pb::InstanceProgress::default()
        };
        if let Some(instance) = &task.instance_id {
            store::append_history(
                &mut tx,
                instance,
                NewHistory {
                    action: "task_overdue",
                    step: &task.step,
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
    api.mutations().committed();
    for instance in overdue.iter().filter_map(|t| t.instance_id.as_deref()) {
        api.changed(instance);
    }
    Ok(overdue.len())
}
