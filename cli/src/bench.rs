//! `procedo bench`: measured load against real services, each figure
//! beside the ceilings measured in the same run on the same database and
//! machine, so results read as ratios, not as absolute numbers.
//!
//! Scenario "tasks" (workflow, §3): instances of a one-step process are
//! started, then their tasks completed by concurrent clients through the
//! gRPC API; every completion records the signed decision, moves and ends
//! the instance, writes its history and its audit event in one
//! transaction.
//!
//! Scenario "audit" (compliance, §1.3.4): audit records delivered to the
//! compliance service as the other services' relays deliver them, one
//! event per `Deliver` call, from as many concurrent senders; each is
//! appended to the Merkle-tree log in its own transaction. Beside it, the
//! rate of audit records the "tasks" run generated — what the log must
//! keep up with.
//!
//! Ceilings: the bare single-row insert transaction on the same database
//! (what one durable write costs), and the bare gRPC round trip (a health
//! check against the same server).

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser as _;
use futures::StreamExt as _;
use procedo_compliance::ComplianceService;
use procedo_compliance::config::ComplianceArgs;
use procedo_platform::auth::DevSigner;
use procedo_platform::config::DEV_JWT_SECRET;
use procedo_platform::db::{self, Backend};
use procedo_platform::identity::Role;
use procedo_platform::service::{self, Config};
use procedo_platform::{server, shutdown};
use procedo_proto::workflow as pb;
use procedo_proto::workflow::workflow_service_client::WorkflowServiceClient;
use procedo_workflow::Workflow;
use procedo_workflow::config::WorkflowArgs;

use crate::client::Auth;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Backends to measure: sqlite, postgres, or both.
    #[arg(long, value_parser = ["sqlite", "postgres", "both"], default_value = "sqlite")]
    pub backend: String,

    /// PostgreSQL to measure against (a fresh schema is made and dropped).
    #[arg(
        long,
        env = "PROCEDO_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    pub postgres_url: String,

    /// Tasks completed per backend (and operations per ceiling).
    #[arg(long, default_value_t = 2000)]
    pub operations: usize,

    /// Concurrent clients; several, comma-separated, measure each load
    /// (e.g. 16,64).
    #[arg(long, value_delimiter = ',', default_value = "16")]
    pub concurrency: Vec<usize>,
}

/// Throughput and latency of one measured run.
#[derive(Debug, Clone)]
pub struct Figures {
    pub per_second: f64,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
}

impl Figures {
    fn of(mut latencies: Vec<Duration>, elapsed: Duration) -> Figures {
        latencies.sort_unstable();
        let at = |q: f64| {
            let i =
                ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len().max(1)) - 1;
            latencies.get(i).copied().unwrap_or_default()
        };
        Figures {
            per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
        }
    }
}

/// Runs `op(i)` for `i` in `0..n`, `concurrency` at a time, timing each.
async fn measure<F, Fut>(n: usize, concurrency: usize, op: F) -> anyhow::Result<Figures>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    let mut runs = futures::stream::iter(0..n)
        .map(|i| {
            let call = op(i);
            async move {
                let at = Instant::now();
                call.await.map(|()| at.elapsed())
            }
        })
        .buffer_unordered(concurrency);
    let mut latencies = Vec::with_capacity(n);
    while let Some(latency) = runs.next().await {
        latencies.push(latency?);
    }
    Ok(Figures::of(latencies, started.elapsed()))
}

type Client = WorkflowServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Auth>,
>;

/// Where one backend's run keeps its data: a SQLite file in a temporary
/// folder, or a fresh PostgreSQL schema dropped afterwards.
struct BenchDatabase {
    url: String,
    schema: String,
    _dir: Option<tempfile::TempDir>,
}

impl BenchDatabase {
    fn new(backend: Backend, postgres_url: &str) -> anyhow::Result<BenchDatabase> {
        let schema = format!("bench_{}", uuid::Uuid::now_v7().simple());
        Ok(match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir()?;
                let url = db::DbOptions::sqlite_file(dir.path(), "bench").url;
                BenchDatabase {
                    url,
                    schema,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => BenchDatabase {
                url: postgres_url.to_owned(),
                schema,
                _dir: None,
            },
        })
    }

    /// A service's settings for the run: the binary's defaults, this
    /// database, room for every client at once, and `extra`.
    fn config<A: clap::Args>(&self, extra: &[&str]) -> anyhow::Result<Config<A>> {
        let mut args = vec![
            "procedo-bench",
            "--database-url",
            &self.url,
            "--database-schema",
            &self.schema,
            "--concurrency-limit",
            "4096",
        ];
        args.extend_from_slice(extra);
        Ok(Config::try_parse_from(args)?)
    }

    async fn remove(self) -> anyhow::Result<()> {
        if Backend::of_url(&self.url)? == Backend::Postgres {
            db::drop_schema(&self.url, &self.schema).await?;
        }
        Ok(())
    }
}

/// A service serving one scenario on 127.0.0.1, and a channel to it.
struct Serving {
    channel: tonic::transport::Channel,
    db: db::Database,
    trigger: shutdown::Trigger,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Serving {
    async fn start<S: service::Service>(config: Config<S::Args>) -> anyhow::Result<Serving> {
        let listener = server::bind("127.0.0.1:0".parse()?).await?;
        let started = service::start::<S>(config, listener).await?;
        let addr = started.local_addr()?;
        let db = started.db().clone();
        let (trigger, stop) = shutdown::channel();
        let task = tokio::spawn(started.serve(stop.wait()));
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
            .connect()
            .await?;
        Ok(Serving {
            channel,
            db,
            trigger,
            task,
        })
    }

    async fn stop(self) -> anyhow::Result<()> {
        self.trigger.fire();
        self.task.await?
    }
}

/// One backend's results.
#[derive(Debug)]
pub struct Report {
    pub backend: &'static str,
    pub concurrency: usize,
    pub tasks: Figures,
    /// Applications submitted, each numbered in the gap-free ledger.
    pub submit: Figures,
    /// Audit records appended by compliance, one per call.
    pub audit: Figures,
    /// The same, many per call (per-second counts records).
    pub audit_batched: Figures,
    /// Audit records each task completion queued.
    pub audit_per_task: f64,
    pub insert: Figures,
    pub echo: Figures,
}

async fn bench_backend(
    backend: Backend,
    args: &BenchArgs,
    concurrency: usize,
) -> anyhow::Result<Report> {
    let database = BenchDatabase::new(backend, &args.postgres_url)?;
    // No deadline sweeps during the run.
    let config = database.config::<WorkflowArgs>(&["--deadline-sweep", "1h"])?;
    let serving = Serving::start::<Workflow>(config).await?;
    let (db, channel) = (serving.db.clone(), serving.channel.clone());
    let admin =
        DevSigner::new(DEV_JWT_SECRET.as_bytes()).token("bench", "ops", &[Role::Admin], 3600);
    let client: Client =
        WorkflowServiceClient::with_interceptor(channel.clone(), Auth::bearer(&admin));

    // Setup: a one-step process and an open task per operation.
    client
        .clone()
        .deploy_process_definition(pb::DeployProcessDefinitionRequest {
            request_id: String::new(),
            definition: Some(one_step()),
        })
        .await?;
    let starter = Arc::new(client.clone());
    measure(args.operations, concurrency, |i| {
        let mut c = Client::clone(&starter);
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
    let tasks: Vec<String> = list_open_tasks(&client).await?;
    anyhow::ensure!(
        tasks.len() == args.operations,
        "expected {} open tasks, found {}",
        args.operations,
        tasks.len()
    );

    let audited_before = audit_records(&db).await?;
    let worker = Arc::new(client.clone());
    let tasks = Arc::new(tasks);
    let task_figures = measure(args.operations, concurrency, |i| {
        let mut c = Client::clone(&worker);
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

    let audit_per_task =
        (audit_records(&db).await? - audited_before) as f64 / args.operations as f64;
    let (audit, audit_batched) = bench_audit(backend, args, concurrency).await?;
    let submit = bench_submit(backend, args, concurrency).await?;

    // Ceiling 1: one durable single-row write.
    sqlx::query("CREATE TABLE bench_ceiling (id TEXT PRIMARY KEY, at BIGINT NOT NULL)")
        .execute(db.reader())
        .await?;
    let insert = measure(args.operations, concurrency, |i| {
        let db = db.clone();
        async move {
            let mut tx = db.begin().await?;
            sqlx::query("INSERT INTO bench_ceiling (id, at) VALUES ($1, $2)")
                .bind(format!("row-{i}"))
                .bind(procedo_platform::time::now())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }
    })
    .await?;

    // Ceiling 2: the bare gRPC round trip.
    let health = tonic_health::pb::health_client::HealthClient::new(channel);
    let echo = measure(args.operations, concurrency, |_| {
        let mut h = health.clone();
        async move {
            h.check(tonic_health::pb::HealthCheckRequest::default())
                .await?;
            Ok(())
        }
    })
    .await?;

    serving.stop().await?;
    database.remove().await?;
    Ok(Report {
        backend: match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        },
        concurrency,
        tasks: task_figures,
        submit,
        audit,
        audit_batched,
        audit_per_task,
        insert,
        echo,
    })
}

/// Audit records queued in `db`'s outbox.
async fn audit_records(db: &db::Database) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE destination = $1",
    )
    .bind(procedo_platform::outbox::AUDIT)
    .fetch_one(db.reader())
    .await?)
}

/// Scenario "audit": `operations` audit records delivered to a compliance
/// service on a database of its own, `concurrency` senders at a time — one
/// per `Deliver` call, then [`AUDIT_BATCH`] per `DeliverBatch` call as the
/// relays send them.
async fn bench_audit(
    backend: Backend,
    args: &BenchArgs,
    concurrency: usize,
) -> anyhow::Result<(Figures, Figures)> {
    use procedo_proto::common::event_sink_service_client::EventSinkServiceClient;
    let database = BenchDatabase::new(backend, &args.postgres_url)?;
    let config = database.config::<ComplianceArgs>(&["--audit-checkpoint-interval", "1h"])?;
    let serving = Serving::start::<ComplianceService>(config).await?;
    let channel = serving.channel.clone();
    let token =
        DevSigner::new(DEV_JWT_SECRET.as_bytes()).token("bench", "ops", &[Role::Service], 3600);
    let sink = EventSinkServiceClient::with_interceptor(channel, Auth::bearer(&token));
    let single = measure(args.operations, concurrency, |i| {
        let mut sink = sink.clone();
        let event = audit_event(i);
        async move {
            sink.deliver(procedo_proto::common::DeliverRequest { event: Some(event) })
                .await?;
            Ok(())
        }
    })
    .await?;
    let calls = args.operations.div_ceil(AUDIT_BATCH);
    let mut batched = measure(calls, concurrency, |call| {
        let mut sink = sink.clone();
        let events = (0..AUDIT_BATCH)
            .map(|k| audit_event(args.operations + call * AUDIT_BATCH + k))
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
    serving.stop().await?;
    database.remove().await?;
    Ok((single, batched))
}

/// Scenario "submit" (intake, §2.2): applications submitted by concurrent
/// clerks to an intake service on a database of its own; each takes the
/// next number of the year's gap-free ledger (submissions arriving together
/// are filed in one transaction).
async fn bench_submit(
    backend: Backend,
    args: &BenchArgs,
    concurrency: usize,
) -> anyhow::Result<Figures> {
    use procedo_intake::Intake;
    use procedo_intake::config::IntakeArgs;
    use procedo_proto::intake as ipb;
    use procedo_proto::intake::intake_service_client::IntakeServiceClient;
    let database = BenchDatabase::new(backend, &args.postgres_url)?;
    let config = database.config::<IntakeArgs>(&["--intake-overdue-sweep", "1h"])?;
    let serving = Serving::start::<Intake>(config).await?;
    let channel = serving.channel.clone();
    let signer = DevSigner::new(DEV_JWT_SECRET.as_bytes());
    let admin = signer.token("bench", "ops", &[Role::Admin], 3600);
    let clerk = signer.token("clerk", "ops", &[Role::IntakeClerk], 3600);
    IntakeServiceClient::with_interceptor(channel.clone(), Auth::bearer(&admin))
        .create_application_type(ipb::CreateApplicationTypeRequest {
            request_id: String::new(),
            application_type: Some(ipb::ApplicationType {
                code: "bench".into(),
                display_name: "Benchmark application".into(),
                in_scope: true,
                processing_time_limit: Some(prost_types::Duration {
                    seconds: 5 * 86_400,
                    nanos: 0,
                }),
                process_key: "bench".into(),
                ..Default::default()
            }),
        })
        .await?;
    let client = IntakeServiceClient::with_interceptor(channel, Auth::bearer(&clerk));
    let figures = measure(args.operations, concurrency, |i| {
        let mut c = client.clone();
        async move {
            c.submit_application(ipb::SubmitApplicationRequest {
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
            })
            .await?;
            Ok(())
        }
    })
    .await?;
    serving.stop().await?;
    database.remove().await?;
    Ok(figures)
}

/// Events a relay claims and sends at once (the default outbox batch).
const AUDIT_BATCH: usize = 32;

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

async fn list_open_tasks(client: &Client) -> anyhow::Result<Vec<String>> {
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

fn one_step() -> pb::ProcessDefinition {
    pb::ProcessDefinition {
        key: "bench".into(),
        display_name: "Benchmark: one task".into(),
        start_step: "work".into(),
        steps: vec![pb::Step {
            id: "work".into(),
            name: "Work".into(),
            kind: pb::StepKind::Task as i32,
            owner: Some(pb::Owner {
                role: "executor".into(),
                scope: pb::DepartmentScope::Initiator as i32,
                department: String::new(),
            }),
            content: "Do the work".into(),
            standard: vec!["done".into()],
            time_limit: Some(prost_types::Duration {
                seconds: 86_400,
                nanos: 0,
            }),
            departments: vec![],
            limit: None,
            requires_document: false,
        }],
        transitions: vec![pb::Transition {
            from_step: "work".into(),
            decision: pb::Decision::Complete as i32,
            to_step: String::new(),
            kind: pb::TransitionKind::Forward as i32,
        }],
        ..Default::default()
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.operations >= 1 && !args.concurrency.is_empty() && !args.concurrency.contains(&0),
        "--operations and --concurrency must be at least 1"
    );
    let backends: &[Backend] = match args.backend.as_str() {
        "postgres" => &[Backend::Postgres],
        "both" => &[Backend::Sqlite, Backend::Postgres],
        _ => &[Backend::Sqlite],
    };
    let build = if cfg!(debug_assertions) {
        "debug build: use --release for real figures"
    } else {
        "release build"
    };
    println!(
        "procedo bench — scenarios \"tasks\", \"submit\" and \"audit\": {} operations each ({build})",
        args.operations
    );
    println!();
    println!(
        "| backend | clients | measure | ops/s | p50 ms | p90 ms | p99 ms | of insert ceiling |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|");
    for backend in backends {
        for &concurrency in &args.concurrency {
            report(&bench_backend(*backend, &args, concurrency).await?);
        }
    }
    Ok(())
}

fn report(r: &Report) {
    {
        let rows = [
            ("CompleteTask (workflow)", &r.tasks),
            ("SubmitApplication, gap-free ledger (intake)", &r.submit),
            ("audit append, one per Deliver (compliance)", &r.audit),
            (
                "audit append, 32 per DeliverBatch, as relays send (compliance)",
                &r.audit_batched,
            ),
            ("ceiling: insert transaction", &r.insert),
            ("ceiling: gRPC round trip", &r.echo),
        ];
        for (what, f) in rows {
            println!(
                "| {} | {} | {what} | {:.0} | {} | {} | {} | {:.0}% |",
                r.backend,
                r.concurrency,
                f.per_second,
                ms(f.p50),
                ms(f.p90),
                ms(f.p99),
                100.0 * f.per_second / r.insert.per_second
            );
        }
        let generated = r.tasks.per_second * r.audit_per_task;
        println!(
            "| {} | {} | audit records the CompleteTask run generated ({:.1} per completion) | {generated:.0} | | | | {:.0}% |",
            r.backend,
            r.concurrency,
            r.audit_per_task,
            100.0 * generated / r.insert.per_second
        );
    }
}
