//! The single-service scenarios.
//!
//! "tasks" (workflow, §3): instances of a one-step process are started,
//! then their tasks completed by concurrent clients; every completion
//! records the signed decision, moves and ends the instance, writes its
//! history and its audit event in one transaction.
//!
//! "submit" (intake, §2.2): applications submitted by concurrent clerks;
//! each takes the next number of the year's gap-free ledger (submissions
//! arriving together are filed in one transaction).
//!
//! "audit" (compliance, §1.3.4): audit records delivered as the other
//! services' relays deliver them, one per `Deliver` call and then 32 per
//! `DeliverBatch` call; each is appended to the Merkle-tree log.

use std::sync::Arc;

use procedo_platform::identity::Role;
use procedo_platform::service::Service;
use procedo_proto::workflow as pb;
use procedo_proto::workflow::workflow_service_client::WorkflowServiceClient;

use super::measure::{Figures, measure};
use super::system::System;
use super::{Outcome, Row, Run};
use crate::client::Auth;

pub type WorkflowClient = WorkflowServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Auth>,
>;

pub async fn tasks(run: &Run<'_>) -> anyhow::Result<Outcome> {
    // No deadline sweeps during the run.
    let system = System::start(
        &["workflow"],
        run.database().await?,
        &["--deadline-sweep", "1h"],
    )
    .await?;
    let client: WorkflowClient = WorkflowServiceClient::with_interceptor(
        system.channel("workflow").await?,
        Auth::bearer(&run.token("bench", &[Role::Admin])),
    );
    client
        .clone()
        .deploy_process_definition(pb::DeployProcessDefinitionRequest {
            request_id: String::new(),
            definition: Some(one_step()),
        })
        .await?;
    let n = run.args.operations;
    measure(n, run.concurrency, |i| {
        let mut c = client.clone();
        async move {
            c.start_instance(pb::StartInstanceRequest {
                process_key: "bench".into(),
                business_key: format!("bench-{i}"),
                business_type: "bench".into(),
                title: "bench".into(),
                initiator_department: "ops".into(),
                ..Default::default()
            })
            .await?;
            Ok(())
        }
    })
    .await?;
    let tasks = Arc::new(open_tasks(&client).await?);
    anyhow::ensure!(
        tasks.len() == n,
        "expected {n} open tasks, found {}",
        tasks.len()
    );

    let outbox = system
        .database()
        .connect(
            "workflow",
            <procedo_workflow::Workflow as Service>::MIGRATIONS,
        )
        .await?;
    let audited_before = audit_records(&outbox).await?;
    let completed = measure(n, run.concurrency, |i| {
        let mut c = client.clone();
        let name = tasks[i].clone();
        async move {
            c.complete_task(pb::CompleteTaskRequest {
                name,
                decision: pb::Decision::Complete as i32,
                opinion: "done".into(),
                ..Default::default()
            })
            .await?;
            Ok(())
        }
    })
    .await?;
    let per_task = (audit_records(&outbox).await? - audited_before) as f64 / n as f64;
    outbox.close().await;
    let generated = Figures::rate(completed.per_second * per_task);
    Ok(Outcome {
        rows: vec![
            Row::new("CompleteTask (workflow)", completed),
            Row::new(
                format!(
                    "audit records the CompleteTask run generated ({per_task:.1} per completion)"
                ),
                generated,
            )
            .rate_only(),
        ],
        peak_rss: system.stop().await?,
    })
}

/// Audit records queued in `db`'s outbox.
async fn audit_records(db: &procedo_platform::db::Database) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE destination = $1",
    )
    .bind(procedo_platform::outbox::AUDIT)
    .fetch_one(db.reader())
    .await?)
}

pub async fn submit(run: &Run<'_>) -> anyhow::Result<Outcome> {
    use procedo_proto::intake as ipb;
    use procedo_proto::intake::intake_service_client::IntakeServiceClient;
    let system = System::start(
        &["intake"],
        run.database().await?,
        &["--intake-overdue-sweep", "1h"],
    )
    .await?;
    let channel = system.channel("intake").await?;
    IntakeServiceClient::with_interceptor(
        channel.clone(),
        Auth::bearer(&run.token("bench", &[Role::Admin])),
    )
    .create_application_type(ipb::CreateApplicationTypeRequest {
        request_id: String::new(),
        application_type: Some(bench_application_type("bench")),
    })
    .await?;
    let client = IntakeServiceClient::with_interceptor(
        channel,
        Auth::bearer(&run.token("clerk", &[Role::IntakeClerk])),
    );
    let figures = measure(run.args.operations, run.concurrency, |i| {
        let mut c = client.clone();
        async move {
            c.submit_application(application(i)).await?;
            Ok(())
        }
    })
    .await?;
    Ok(Outcome {
        rows: vec![Row::new(
            "SubmitApplication, gap-free ledger (intake)",
            figures,
        )],
        peak_rss: system.stop().await?,
    })
}

/// The application type the bench files under, starting `process_key`.
pub fn bench_application_type(process_key: &str) -> procedo_proto::intake::ApplicationType {
    procedo_proto::intake::ApplicationType {
        code: "bench".into(),
        display_name: "Benchmark application".into(),
        in_scope: true,
        processing_time_limit: Some(prost_types::Duration {
            seconds: 5 * 86_400,
            nanos: 0,
        }),
        process_key: process_key.into(),
        handling_department: "ops".into(),
        ..Default::default()
    }
}

/// The `i`th application of a run.
pub fn application(i: usize) -> procedo_proto::intake::SubmitApplicationRequest {
    use procedo_proto::intake as ipb;
    ipb::SubmitApplicationRequest {
        request_id: format!("bench-{i}"),
        type_code: "bench".into(),
        applicant: Some(ipb::Applicant {
            name: format!("Applicant {i}"),
            organisation: "Acme Trading Co.".into(),
            phone: "+86 10 1234 5678".into(),
            email: "applicant@example.com".into(),
        }),
        matter: Some(ipb::Matter {
            title: "Working capital loan".into(),
            description: "Six months, for inventory.".into(),
        }),
        amount: None,
        materials: vec![],
    }
}

/// Events a relay claims and sends at once (the default outbox batch).
const AUDIT_BATCH: usize = 32;

pub async fn audit(run: &Run<'_>) -> anyhow::Result<Outcome> {
    use procedo_proto::common::event_sink_service_client::EventSinkServiceClient;
    let system = System::start(
        &["compliance"],
        run.database().await?,
        &["--audit-checkpoint-interval", "1h"],
    )
    .await?;
    let sink = EventSinkServiceClient::with_interceptor(
        system.channel("compliance").await?,
        Auth::bearer(&run.token("bench", &[Role::Service])),
    );
    let n = run.args.operations;
    let single = measure(n, run.concurrency, |i| {
        let mut sink = sink.clone();
        let event = audit_event(i);
        async move {
            sink.deliver(procedo_proto::common::DeliverRequest { event: Some(event) })
                .await?;
            Ok(())
        }
    })
    .await?;
    let mut batched = measure(n.div_ceil(AUDIT_BATCH), run.concurrency, |call| {
        let mut sink = sink.clone();
        let events = (0..AUDIT_BATCH)
            .map(|k| audit_event(n + call * AUDIT_BATCH + k))
            .collect();
        async move {
            sink.deliver_batch(procedo_proto::common::DeliverBatchRequest { events })
                .await?;
            Ok(())
        }
    })
    .await?;
    // Records per second; the latencies stay per call.
    batched.per_second *= AUDIT_BATCH as f64;
    Ok(Outcome {
        rows: vec![
            Row::new("audit append, one per Deliver (compliance)", single),
            Row::new(
                "audit append, 32 per DeliverBatch, as relays send (compliance)",
                batched,
            ),
        ],
        peak_rss: system.stop().await?,
    })
}

/// The `i`th audit record of the bench.
fn audit_event(i: usize) -> procedo_proto::common::Event {
    use prost::Message as _;
    let record = procedo_proto::common::AuditRecord {
        action: "workflow.tasks.complete".into(),
        resource: format!("tasks/{i}"),
        detail: "COMPLETE".into(),
        trace_id: String::new(),
    };
    procedo_proto::common::Event {
        id: uuid::Uuid::now_v7().to_string(),
        source: "procedo.bench".into(),
        r#type: procedo_proto::events::AUDIT.into(),
        subject: format!("tasks/{i}"),
        time: Some(procedo_platform::time::to_timestamp(
            procedo_platform::time::now(),
        )),
        actor: Some(procedo_proto::common::Actor {
            subject: "bench".into(),
            ..Default::default()
        }),
        data: Some(prost_types::Any {
            type_url: format!(
                "type.googleapis.com/{}",
                procedo_proto::events::AUDIT_RECORD
            ),
            value: record.encode_to_vec(),
        }),
        sequence: i64::try_from(i).unwrap_or(i64::MAX),
        ..Default::default()
    }
}

/// Every open task's name.
async fn open_tasks(client: &WorkflowClient) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .clone()
            .list_tasks(pb::ListTasksRequest {
                page_size: 500,
                page_token: token,
                status: pb::TaskStatus::Open as i32,
                ..Default::default()
            })
            .await?
            .into_inner();
        names.extend(page.tasks.into_iter().map(|t| t.name));
        if page.next_page_token.is_empty() {
            return Ok(names);
        }
        token = page.next_page_token;
    }
}

/// A step of a bench process: `kind`, owned by `role` in the initiating
/// department, due in a day.
pub fn step(id: &str, name: &str, kind: pb::StepKind, role: &str) -> pb::Step {
    pb::Step {
        id: id.into(),
        name: name.into(),
        kind: kind as i32,
        owner: Some(pb::Owner {
            role: role.into(),
            scope: pb::DepartmentScope::Initiator as i32,
            department: String::new(),
        }),
        content: format!("{name}, as the bench does it"),
        standard: vec!["done".into()],
        time_limit: Some(prost_types::Duration {
            seconds: 86_400,
            nanos: 0,
        }),
        ..Default::default()
    }
}

pub fn forward(from: &str, decision: pb::Decision, to: &str) -> pb::Transition {
    pb::Transition {
        from_step: from.into(),
        decision: decision as i32,
        to_step: to.into(),
        kind: pb::TransitionKind::Forward as i32,
    }
}

fn one_step() -> pb::ProcessDefinition {
    pb::ProcessDefinition {
        key: "bench".into(),
        display_name: "Benchmark: one task".into(),
        start_step: "work".into(),
        steps: vec![step("work", "Work", pb::StepKind::Task, "executor")],
        transitions: vec![forward("work", pb::Decision::Complete, "")],
        ..Default::default()
    }
}
