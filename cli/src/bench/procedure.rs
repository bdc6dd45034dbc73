//! The scenarios across intake and workflow.
//!
//! "procedure" (§2.2 → §3.2): an application submitted and accepted at
//! intake starts a workflow instance through intake's outbox, which then
//! runs five stages — initiation, plan, joint review, approval, execution
//! and acceptance as one task each — to completion, each stage reported
//! back to intake. Measured: whole procedures per second with their
//! latency, and the time from acceptance to the instance existing (the
//! outbox delivery latency, from the two services' own timestamps).
//!
//! "reads": the reads callers make most — `GetApplication`,
//! `GetInstance`, a clerk's `ListTasks` work queue, a `QueryLedger` page —
//! beside the bare round trip, after `operations` procedures have started.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use procedo_platform::identity::Role;
use procedo_proto::intake as ipb;
use procedo_proto::intake::intake_service_client::IntakeServiceClient;
use procedo_proto::workflow as pb;
use procedo_proto::workflow::workflow_service_client::WorkflowServiceClient;

use super::measure::{Figures, measure, measure_reads};
use super::scenarios::{WorkflowClient, application, bench_application_type, forward, step};
use super::system::System;
use super::{Outcome, Row, Run, ceilings};
use crate::client::Auth;

pub type IntakeClient = IntakeServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Auth>,
>;

/// Intake and workflow wired to each other, the bench's process deployed
/// and its application type created.
pub struct Pair {
    pub system: System,
    pub clerk: IntakeClient,
    pub admin: WorkflowClient,
}

impl Pair {
    pub async fn start(run: &Run<'_>) -> anyhow::Result<Pair> {
        let system = System::start(
            &["intake", "workflow"],
            run.database().await?,
            &["--deadline-sweep", "1h", "--intake-overdue-sweep", "1h"],
        )
        .await?;
        let admin_token = run.token("bench", &[Role::Admin]);
        let intake = system.channel("intake").await?;
        let admin = WorkflowServiceClient::with_interceptor(
            system.channel("workflow").await?,
            Auth::bearer(&admin_token),
        );
        admin
            .clone()
            .deploy_process_definition(pb::DeployProcessDefinitionRequest {
                request_id: String::new(),
                definition: Some(five_stages()),
            })
            .await?;
        IntakeServiceClient::with_interceptor(intake.clone(), Auth::bearer(&admin_token))
            .create_application_type(ipb::CreateApplicationTypeRequest {
                request_id: String::new(),
                application_type: Some(bench_application_type("bench-procedure")),
            })
            .await?;
        let clerk = IntakeServiceClient::with_interceptor(
            intake,
            Auth::bearer(&run.token("clerk", &[Role::IntakeClerk])),
        );
        Ok(Pair {
            system,
            clerk,
            admin,
        })
    }

    /// Submits and accepts the `i`th application; it and when it was
    /// accepted.
    pub async fn accept(&self, i: usize) -> anyhow::Result<ipb::Application> {
        let mut clerk = self.clerk.clone();
        let filed = clerk.submit_application(application(i)).await?.into_inner();
        Ok(clerk
            .review_application(ipb::ReviewApplicationRequest {
                name: filed.name,
                decision: ipb::ReviewDecision::Accept as i32,
                ..Default::default()
            })
            .await?
            .into_inner())
    }

    /// The instance `application` started, once it exists.
    pub async fn instance_of(&self, application: &str) -> anyhow::Result<pb::Instance> {
        let started = std::time::Instant::now();
        loop {
            let found = self
                .admin
                .clone()
                .list_instances(pb::ListInstancesRequest {
                    business_key: application.to_owned(),
                    ..Default::default()
                })
                .await?
                .into_inner()
                .instances
                .into_iter()
                .next();
            if let Some(instance) = found {
                return Ok(instance);
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "no instance for {application} within a minute"
            );
            // Not too often: 64 clients polling would be load of their
            // own. The delivery latency is read off the services' own
            // timestamps, not off this loop.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Completes `instance`'s open tasks until it ends.
    pub async fn run_to_completion(&self, instance: &str) -> anyhow::Result<()> {
        let mut w = self.admin.clone();
        for _ in 0..STAGES * 2 {
            let open = w
                .list_tasks(pb::ListTasksRequest {
                    instance: instance.to_owned(),
                    status: pb::TaskStatus::Open as i32,
                    ..Default::default()
                })
                .await?
                .into_inner()
                .tasks;
            let Some(task) = open.into_iter().next() else {
                return Ok(());
            };
            let decision = match task.step.as_str() {
                "review" | "approval" | "acceptance" => pb::Decision::Approve,
                _ => pb::Decision::Complete,
            };
            w.complete_task(pb::CompleteTaskRequest {
                name: task.name,
                decision: decision as i32,
                opinion: "as planned".into(),
                ..Default::default()
            })
            .await?;
        }
        anyhow::bail!("{instance} did not end after {STAGES} stages")
    }

    /// A workflow client of an executor of department "ops".
    pub async fn as_executor(&self, run: &Run<'_>) -> anyhow::Result<WorkflowClient> {
        Ok(WorkflowServiceClient::with_interceptor(
            self.system.channel("workflow").await?,
            Auth::bearer(&run.token("executor", &[Role::Executor])),
        ))
    }

    /// Stops the services; their peak memory.
    pub async fn stop(self) -> anyhow::Result<Option<u64>> {
        self.system.stop().await
    }
}

/// The reads "reads" and "scale" measure.
pub struct Reads {
    pub get_application: Figures,
    pub get_instance: Figures,
    pub work_queue: Figures,
    pub ledger_page: Figures,
}

impl Pair {
    /// `operations` of each read, `clients` at a time, of the
    /// (application, instance) names in `names` taken in a scattered turn.
    pub async fn reads(
        &self,
        run: &Run<'_>,
        names: &[(String, String)],
        clients: usize,
    ) -> anyhow::Result<Reads> {
        let n = run.args.operations;
        let get_application = self.get_applications(names, n, clients).await?;
        let get_instance = measure_reads(n, clients, |i| {
            let mut w = self.admin.clone();
            let name = pick(names, i).1.clone();
            async move {
                w.get_instance(pb::GetInstanceRequest { name }).await?;
                Ok(())
            }
        })
        .await?;
        let executor = self.as_executor(run).await?;
        let work_queue = measure_reads(n, clients, |_| {
            let mut w = executor.clone();
            async move {
                w.list_tasks(pb::ListTasksRequest {
                    page_size: 20,
                    actionable: true,
                    ..Default::default()
                })
                .await?;
                Ok(())
            }
        })
        .await?;
        let ledger_page = measure_reads(n, clients, |_| {
            let mut c = self.clerk.clone();
            async move {
                c.query_ledger(ipb::QueryLedgerRequest {
                    page_size: 50,
                    ..Default::default()
                })
                .await?;
                Ok(())
            }
        })
        .await?;
        Ok(Reads {
            get_application,
            get_instance,
            work_queue,
            ledger_page,
        })
    }

    /// `n` `GetApplication` calls, `clients` at a time.
    pub async fn get_applications(
        &self,
        names: &[(String, String)],
        n: usize,
        clients: usize,
    ) -> anyhow::Result<Figures> {
        measure_reads(n, clients, |i| {
            let mut c = self.clerk.clone();
            let name = pick(names, i).0.clone();
            async move {
                c.get_application(ipb::GetApplicationRequest { name })
                    .await?;
                Ok(())
            }
        })
        .await
    }
}

/// The `i`th of `names` in a scattered order, so consecutive reads do not
/// hit neighbouring rows.
fn pick(names: &[(String, String)], i: usize) -> &(String, String) {
    &names[(i * 7919) % names.len()]
}

const STAGES: usize = 6;

/// Initiation → plan → joint review → approval → execution → acceptance,
/// one task each (the standard procedure's stages, without its document
/// checks, which need the document service).
fn five_stages() -> pb::ProcessDefinition {
    use pb::Decision::{Approve, Complete};
    use pb::StepKind::{Review, Task};
    pb::ProcessDefinition {
        key: "bench-procedure".into(),
        display_name: "Benchmark: the five stages".into(),
        start_step: "initiation".into(),
        steps: vec![
            step("initiation", "Initiation", Task, "executor"),
            step("plan", "Plan", Task, "executor"),
            step("review", "Joint review", Review, "reviewer"),
            step("approval", "Approval", Review, "department_head"),
            step("execution", "Execution", Task, "executor"),
            step("acceptance", "Acceptance", Review, "acceptor"),
        ],
        transitions: vec![
            forward("initiation", Complete, "plan"),
            forward("plan", Complete, "review"),
            forward("review", Approve, "approval"),
            forward("approval", Approve, "execution"),
            forward("execution", Complete, "acceptance"),
            forward("acceptance", Approve, ""),
        ],
        ..Default::default()
    }
}

pub async fn procedure(run: &Run<'_>) -> anyhow::Result<Outcome> {
    let pair = Arc::new(Pair::start(run).await?);
    let n = (run.args.operations / 10).max(run.concurrency);
    let deliveries = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let procedures = measure(n, run.concurrency, |i| {
        let (pair, deliveries) = (pair.clone(), deliveries.clone());
        async move {
            let accepted = pair.accept(i).await?;
            let instance = pair.instance_of(&accepted.name).await?;
            let delivery = since(accepted.update_time, instance.create_time);
            deliveries.lock().expect("not poisoned").push(delivery);
            pair.run_to_completion(&instance.name).await
        }
    })
    .await?;
    let deliveries = std::mem::take(&mut *deliveries.lock().expect("not poisoned"));
    let pair = Arc::into_inner(pair).expect("every procedure done");
    Ok(Outcome {
        rows: vec![
            Row::new(
                format!("whole procedure: submit, accept, {STAGES} tasks (intake → workflow)"),
                procedures,
            ),
            Row::new(
                "acceptance → instance started (outbox delivery)",
                Figures::of(deliveries, Duration::from_secs(1)),
            )
            .latency_only(),
        ],
        peak_rss: pair.stop().await?,
    })
}

/// `to - from`, zero when either is missing or `to` is earlier.
fn since(from: Option<prost_types::Timestamp>, to: Option<prost_types::Timestamp>) -> Duration {
    use procedo_platform::time::from_timestamp;
    let (Some(from), Some(to)) = (
        from.as_ref().and_then(from_timestamp),
        to.as_ref().and_then(from_timestamp),
    ) else {
        return Duration::ZERO;
    };
    Duration::from_millis(u64::try_from(to - from).unwrap_or(0))
}

pub async fn reads(run: &Run<'_>) -> anyhow::Result<Outcome> {
    let pair = Arc::new(Pair::start(run).await?);
    let n = run.args.operations;
    // The data read: n accepted applications, each with its instance.
    let accepted = Arc::new(Mutex::new(Vec::with_capacity(n)));
    measure(n, run.concurrency, |i| {
        let (pair, accepted) = (pair.clone(), accepted.clone());
        async move {
            let application = pair.accept(i).await?.name;
            let instance = pair.instance_of(&application).await?.name;
            accepted
                .lock()
                .expect("not poisoned")
                .push((application, instance));
            Ok(())
        }
    })
    .await?;
    let accepted = std::mem::take(&mut *accepted.lock().expect("not poisoned"));

    let reads = pair.reads(run, &accepted, run.concurrency).await?;
    // The latency of one caller alone: the network round trip, the
    // service and one indexed read, nothing queued.
    let alone = pair.get_applications(&accepted, n, 1).await?;
    let round_trip = ceilings::round_trip(&pair.system, "workflow", n, run.concurrency).await?;
    let pair = Arc::into_inner(pair).expect("every read done");
    Ok(Outcome {
        rows: vec![
            Row::new("GetApplication (intake)", reads.get_application),
            Row::new("GetApplication, one client alone (intake)", alone),
            Row::new("GetInstance (workflow)", reads.get_instance),
            Row::new(
                "ListTasks, an executor's work queue, 20 (workflow)",
                reads.work_queue,
            ),
            Row::new("QueryLedger, a page of 50 (intake)", reads.ledger_page),
            Row::new("ceiling: gRPC round trip (health check)", round_trip),
        ],
        peak_rss: pair.stop().await?,
    })
}
