//! The fault suite: the service binaries as separate processes on
//! PostgreSQL, put through what ops teams see — a service killed with
//! SIGKILL under load and started again, two replicas of each service on
//! one database, the database stopped and started again mid-load. Every
//! acknowledged write survives, nothing is duplicated, ledger numbers stay
//! unique and gap-free, and the outboxes drain by themselves.
//!
//! The time bounds here are generous upper bounds that catch hangs, not
//! benchmarks. Each scenario prints what it measured.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use procedo_platform::auth::DevSigner;
use procedo_platform::config::DEV_JWT_SECRET;
use procedo_platform::identity::Role;
use procedo_proto::intake as ipb;
use procedo_proto::intake::intake_service_client::IntakeServiceClient;
use procedo_proto::workflow as wpb;
use procedo_proto::workflow::workflow_service_client::WorkflowServiceClient;
use procedo_testkit::{Bearer, TestDatabase};
use procedo_tests::postgres::OwnPostgres;
use procedo_tests::processes::{ServiceProcess, bin, free_addr};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Intake = IntakeServiceClient<InterceptedService<Channel, Bearer>>;
type Workflow = WorkflowServiceClient<InterceptedService<Channel, Bearer>>;

fn token(role: Role) -> String {
    DevSigner::new(DEV_JWT_SECRET.as_bytes()).token(
        &format!("fault-{role}"),
        "sales",
        &[role],
        3600,
    )
}

fn intake_client(service: &ServiceProcess, role: Role) -> Intake {
    IntakeServiceClient::with_interceptor(
        service.endpoint().connect_lazy(),
        Bearer(Some(token(role))),
    )
}

fn workflow_client(service: &ServiceProcess) -> Workflow {
    WorkflowServiceClient::with_interceptor(
        service.endpoint().connect_lazy(),
        Bearer(Some(token(Role::Admin))),
    )
}

/// The databases of one deployment: one schema per service.
struct Databases {
    url: String,
    intake: TestDatabase,
    workflow: TestDatabase,
}

impl Databases {
    fn on(url: &str) -> Databases {
        Databases {
            url: url.to_owned(),
            intake: TestDatabase::postgres(url, "intake"),
            workflow: TestDatabase::postgres(url, "workflow"),
        }
    }

    /// A service's settings: its schema, and `peer` (name, address).
    fn env(
        &self,
        database: &TestDatabase,
        peer: (&str, std::net::SocketAddr),
    ) -> Vec<(&'static str, String)> {
        vec![
            ("PROCEDO_DATABASE_URL", self.url.clone()),
            ("PROCEDO_DATABASE_SCHEMA", database.options().schema.clone()),
            ("PROCEDO_PEERS", format!("{}=http://{}", peer.0, peer.1)),
            ("PROCEDO_WORKFLOW_DEADLINE_SWEEP", "200ms".to_owned()),
        ]
    }

    /// Counts rows with a query over one service's schema.
    async fn count(&self, database: &TestDatabase, sql: &str) -> i64 {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.url).await.expect("PostgreSQL");
        let sql = sql.replace("{schema}", &format!("\"{}\"", database.options().schema));
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&pool)
            .await
            .expect("counted");
        pool.close().await;
        n
    }

    /// Events still waiting in either outbox for the other service.
    async fn undelivered(&self) -> i64 {
        let pending = "SELECT CAST(COUNT(*) AS BIGINT) FROM {schema}.outbox \
                       WHERE status = 'pending' AND destination = ";
        self.count(&self.intake, &format!("{pending}'workflow'"))
            .await
            + self
                .count(&self.workflow, &format!("{pending}'intake'"))
                .await
    }
}

async fn until(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while started.elapsed() < limit {
        if check().await {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within {limit:?}");
}

/// What the load saw: each acknowledged application, and the error codes
/// of every failed attempt.
#[derive(Default)]
struct Ledger {
    acknowledged: Mutex<BTreeMap<String, String>>,
    errors: Mutex<BTreeMap<String, usize>>,
}

impl Ledger {
    fn failed(&self, status: &tonic::Status) {
        *self
            .errors
            .lock()
            .expect("lock")
            .entry(format!("{:?}", status.code()))
            .or_default() += 1;
    }
}

/// Retries `call` (the same request, the same request id) until it
/// succeeds, for at most a minute.
async fn retried<T, F, Fut>(ledger: &Ledger, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
{
    let started = Instant::now();
    loop {
        match call().await {
            Ok(response) => return response.into_inner(),
            Err(status) => {
                ledger.failed(&status);
                assert!(
                    !matches!(
                        status.code(),
                        tonic::Code::Internal | tonic::Code::InvalidArgument
                    ),
                    "a fault must not look like a bug or bad input: {status:?}"
                );
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "stuck: {status:?}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Clients submitting and accepting applications, alternating between the
/// intake replicas given: `per_client` each, or until `done` when given.
async fn load(
    replicas: Vec<(Intake, Intake)>,
    per_client: usize,
    done: Option<Arc<AtomicBool>>,
    ledger: Arc<Ledger>,
) {
    let clients = replicas
        .into_iter()
        .enumerate()
        .map(|(k, (clerk, reviewer))| {
            let ledger = Arc::clone(&ledger);
            let done = done.clone();
            async move {
                for i in 0..per_client {
                    if done.as_ref().is_some_and(|d| d.load(Ordering::SeqCst)) {
                        break;
                    }
                    let submit = ipb::SubmitApplicationRequest {
                        request_id: format!("submit-{k}-{i}"),
                        type_code: "project".into(),
                        applicant: Some(ipb::Applicant {
                            name: format!("Customer {k}-{i}"),
                            email: "c@example.com".into(),
                            ..Default::default()
                        }),
                        matter: Some(ipb::Matter {
                            title: "Fault drill".into(),
                            description: String::new(),
                        }),
                        ..Default::default()
                    };
                    let filed = retried(&ledger, || {
                        let (mut clerk, submit) = (clerk.clone(), submit.clone());
                        async move { clerk.submit_application(submit).await }
                    })
                    .await;
                    let review = ipb::ReviewApplicationRequest {
                        request_id: format!("accept-{k}-{i}"),
                        name: filed.name.clone(),
                        decision: ipb::ReviewDecision::Accept as i32,
                        ..Default::default()
                    };
                    retried(&ledger, || {
                        let (mut reviewer, review) = (reviewer.clone(), review.clone());
                        async move { reviewer.review_application(review).await }
                    })
                    .await;
                    ledger
                        .acknowledged
                        .lock()
                        .expect("lock")
                        .insert(filed.name.clone(), filed.ledger_number.clone());
                }
            }
        });
    futures::future::join_all(clients).await;
}

async fn prepare(intake: &ServiceProcess) {
    let mut admin = intake_client(intake, Role::Admin);
    admin
        .create_application_type(ipb::CreateApplicationTypeRequest {
            request_id: String::new(),
            application_type: Some(ipb::ApplicationType {
                code: "project".into(),
                display_name: "Project".into(),
                in_scope: true,
                processing_time_limit: Some(prost_types::Duration {
                    seconds: 86_400,
                    nanos: 0,
                }),
                process_key: "standard".into(),
                handling_department: "sales".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("the type");
}

/// Every acknowledged application is there, ledger numbers run 1..=n
/// without a gap or a repeat, each application started exactly one
/// instance and heard of it exactly once.
async fn check(ledger: &Ledger, databases: &Databases, workflow: &ServiceProcess) {
    let acknowledged = ledger.acknowledged.lock().expect("lock").clone();
    let stored = databases
        .count(
            &databases.intake,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM {schema}.applications",
        )
        .await;
    assert_eq!(
        stored,
        acknowledged.len() as i64,
        "one application per acknowledged submission"
    );
    let numbers: BTreeSet<u32> = acknowledged
        .values()
        .map(|n| {
            n.rsplit('-')
                .next()
                .and_then(|d| d.parse().ok())
                .expect("SQ-<year>-<n>")
        })
        .collect();
    assert_eq!(
        numbers.len(),
        acknowledged.len(),
        "ledger numbers are unique"
    );
    assert_eq!(
        numbers.iter().copied().collect::<Vec<_>>(),
        (1..=u32::try_from(acknowledged.len()).expect("small")).collect::<Vec<_>>(),
        "ledger numbers are gap-free"
    );
    let instances = databases
        .count(
            &databases.workflow,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM {schema}.instances",
        )
        .await;
    assert_eq!(
        instances,
        acknowledged.len() as i64,
        "one instance per accepted application"
    );
    let heard = databases
        .count(
            &databases.intake,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM {schema}.application_history WHERE action = 'process'",
        )
        .await;
    assert_eq!(
        heard,
        acknowledged.len() as i64,
        "each stage report applied once"
    );
    let client = workflow_client(workflow);
    for name in acknowledged.keys().take(5) {
        let found = retried(ledger, || {
            let mut client = client.clone();
            let request = wpb::ListInstancesRequest {
                business_key: name.clone(),
                ..Default::default()
            };
            async move { client.list_instances(request).await }
        })
        .await
        .instances;
        assert_eq!(found.len(), 1, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the fault suite: needs PROCEDO_TEST_POSTGRES_URL and the service binaries"]
async fn services_killed_under_load_lose_and_duplicate_nothing() {
    let url = procedo_testkit::postgres_url().expect("PROCEDO_TEST_POSTGRES_URL");
    let databases = Databases::on(&url);
    let (intake_addr, workflow_addr) = (free_addr(), free_addr());
    let mut intake = ServiceProcess::start(
        bin("procedo-intake"),
        intake_addr,
        &databases.env(&databases.intake, ("workflow", workflow_addr)),
    )
    .await;
    let mut workflow = ServiceProcess::start(
        bin("procedo-workflow"),
        workflow_addr,
        &databases.env(&databases.workflow, ("intake", intake_addr)),
    )
    .await;
    prepare(&intake).await;

    let ledger = Arc::new(Ledger::default());
    let clients = (0..4)
        .map(|_| {
            (
                intake_client(&intake, Role::IntakeClerk),
                intake_client(&intake, Role::IntakeClerk),
            )
        })
        .collect();
    let done = Arc::new(AtomicBool::new(false));
    let running = tokio::spawn(load(
        clients,
        1_000,
        Some(Arc::clone(&done)),
        Arc::clone(&ledger),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    intake.kill();
    intake.restart().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    workflow.kill();
    workflow.restart().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    done.store(true, Ordering::SeqCst);
    running.await.expect("the load ends");

    let drained = until("both outboxes drain", Duration::from_secs(10), async || {
        databases.undelivered().await == 0
    })
    .await;
    check(&ledger, &databases, &workflow).await;
    println!(
        "kill -9 under load: {} applications acknowledged, failed attempts by code {:?}, outboxes drained {:?} after the load",
        ledger.acknowledged.lock().expect("lock").len(),
        ledger.errors.lock().expect("lock"),
        drained
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the fault suite: needs PROCEDO_TEST_POSTGRES_URL and the service binaries"]
async fn two_replicas_of_each_service_number_time_and_deliver_once() {
    let url = procedo_testkit::postgres_url().expect("PROCEDO_TEST_POSTGRES_URL");
    let databases = Databases::on(&url);
    let addrs: Vec<_> = (0..4).map(|_| free_addr()).collect();
    // Intake replica n sends to workflow replica n, and back.
    let mut intakes = Vec::new();
    let mut workflows = Vec::new();
    for n in 0..2 {
        intakes.push(
            ServiceProcess::start(
                bin("procedo-intake"),
                addrs[n],
                &databases.env(&databases.intake, ("workflow", addrs[2 + n])),
            )
            .await,
        );
    }
    for n in 0..2 {
        workflows.push(
            ServiceProcess::start(
                bin("procedo-workflow"),
                addrs[2 + n],
                &databases.env(&databases.workflow, ("intake", addrs[n])),
            )
            .await,
        );
    }
    prepare(&intakes[0]).await;

    // Tasks that fall due at once, started through both workflow replicas.
    let mut urgent = urgent_definition();
    workflow_client(&workflows[0])
        .deploy_process_definition(wpb::DeployProcessDefinitionRequest {
            request_id: String::new(),
            definition: Some(std::mem::take(&mut urgent)),
        })
        .await
        .expect("deployed");
    for i in 0..20 {
        workflow_client(&workflows[i % 2])
            .start_instance(wpb::StartInstanceRequest {
                process_key: "urgent".into(),
                business_key: format!("urgent-{i}"),
                business_type: "urgent".into(),
                title: "Now".into(),
                initiator_department: "sales".into(),
                ..Default::default()
            })
            .await
            .expect("started");
    }

    let ledger = Arc::new(Ledger::default());
    let clients = (0..4)
        .map(|k| {
            let replica = &intakes[k % 2];
            (
                intake_client(replica, Role::IntakeClerk),
                intake_client(&intakes[(k + 1) % 2], Role::IntakeClerk),
            )
        })
        .collect();
    load(clients, 15, None, Arc::clone(&ledger)).await;

    until("both outboxes drain", Duration::from_secs(10), async || {
        databases.undelivered().await == 0
    })
    .await;
    let escalations =
        "SELECT CAST(COUNT(*) AS BIGINT) FROM {schema}.history WHERE action = 'task_overdue'";
    until(
        "every urgent task is escalated",
        Duration::from_secs(10),
        async || databases.count(&databases.workflow, escalations).await >= 20,
    )
    .await;
    // A few more sweeps of both timers.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        databases.count(&databases.workflow, escalations).await,
        20,
        "each task escalated once by the two timers"
    );
    let instances = databases
        .count(&databases.workflow, "SELECT CAST(COUNT(*) AS BIGINT) FROM {schema}.instances WHERE definition_key = 'standard'")
        .await;
    assert_eq!(
        instances,
        ledger.acknowledged.lock().expect("lock").len() as i64
    );
    let stored = databases
        .count(
            &databases.intake,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM {schema}.applications",
        )
        .await;
    assert_eq!(stored, instances);
    let heard = databases
        .count(
            &databases.intake,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM {schema}.application_history WHERE action = 'process'",
        )
        .await;
    assert_eq!(heard, stored, "each stage report applied once");
    let numbers: BTreeSet<String> = ledger
        .acknowledged
        .lock()
        .expect("lock")
        .values()
        .cloned()
        .collect();
    assert_eq!(
        numbers.len() as i64,
        stored,
        "ledger numbers unique across replicas"
    );
    println!(
        "two replicas each: {stored} applications, 20 tasks escalated once, failed attempts {:?}",
        ledger.errors.lock().expect("lock")
    );
}

/// One task due a millisecond after it opens.
fn urgent_definition() -> wpb::ProcessDefinition {
    wpb::ProcessDefinition {
        key: "urgent".into(),
        display_name: "Urgent".into(),
        start_step: "work".into(),
        steps: vec![wpb::Step {
            id: "work".into(),
            name: "Work".into(),
            kind: wpb::StepKind::Task as i32,
            owner: Some(wpb::Owner {
                role: "executor".into(),
                scope: wpb::DepartmentScope::Initiator as i32,
                department: String::new(),
            }),
            content: "Do it now".into(),
            standard: vec!["done".into()],
            time_limit: Some(prost_types::Duration {
                seconds: 0,
                nanos: 1_000_000,
            }),
            departments: vec![],
            limit: None,
            requires_document: false,
        }],
        transitions: vec![wpb::Transition {
            from_step: "work".into(),
            decision: wpb::Decision::Complete as i32,
            to_step: String::new(),
            kind: wpb::TransitionKind::Forward as i32,
        }],
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the fault suite: needs PostgreSQL's server binaries and the service binaries"]
async fn the_database_restarted_mid_load_loses_nothing_and_the_services_recover() {
    let server = tokio::task::spawn_blocking(OwnPostgres::start)
        .await
        .expect("PostgreSQL");
    let server = Arc::new(server);
    let databases = Databases::on(&server.url());
    let (intake_addr, workflow_addr) = (free_addr(), free_addr());
    let intake = ServiceProcess::start(
        bin("procedo-intake"),
        intake_addr,
        &databases.env(&databases.intake, ("workflow", workflow_addr)),
    )
    .await;
    let workflow = ServiceProcess::start(
        bin("procedo-workflow"),
        workflow_addr,
        &databases.env(&databases.workflow, ("intake", intake_addr)),
    )
    .await;
    prepare(&intake).await;

    let ledger = Arc::new(Ledger::default());
    let clients = (0..4)
        .map(|_| {
            (
                intake_client(&intake, Role::IntakeClerk),
                intake_client(&intake, Role::IntakeClerk),
            )
        })
        .collect();
    let done = Arc::new(AtomicBool::new(false));
    let running = tokio::spawn(load(
        clients,
        1_000,
        Some(Arc::clone(&done)),
        Arc::clone(&ledger),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let db = Arc::clone(&server);
    tokio::task::spawn_blocking(move || db.down())
        .await
        .expect("stopped");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let db = Arc::clone(&server);
    tokio::task::spawn_blocking(move || db.up())
        .await
        .expect("started");
    let back = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    done.store(true, Ordering::SeqCst);
    running.await.expect("the load ends");

    let drained = until("both outboxes drain", Duration::from_secs(15), async || {
        databases.undelivered().await == 0
    })
    .await;
    check(&ledger, &databases, &workflow).await;
    let errors = ledger.errors.lock().expect("lock").clone();
    assert!(
        errors.contains_key("Unavailable"),
        "callers were told the database was unavailable: {errors:?}"
    );
    println!(
        "database restarted mid-load: {} applications acknowledged, failed attempts {errors:?}, load finished {:?} after the database was back, outboxes drained {drained:?} after that",
        ledger.acknowledged.lock().expect("lock").len(),
        back.elapsed()
    );
    drop(intake);
    drop(workflow);
}
