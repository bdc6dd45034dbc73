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
//! Ceilings: the bare single-row insert transaction on the same database
//! (what one durable write costs), and the bare gRPC round trip (a health
//! check against the same server).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use procedo_platform::auth::{DevSigner, Role, ServiceCredentials};
use procedo_platform::config::DEV_JWT_SECRET;
use procedo_platform::db::{Backend, Database};
use procedo_platform::outbox::RetryPolicy;
use procedo_platform::server::{self, Limits};
use procedo_proto::workflow as pb;
use procedo_proto::workflow::workflow_service_client::WorkflowServiceClient;
use procedo_testkit::{Bearer, TestDatabase, TestServer, Tokens};
use procedo_workflow::Workflow;

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

    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
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
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>,
>;

/// One backend's results.
#[derive(Debug)]
pub struct Report {
    pub backend: &'static str,
    pub tasks: Figures,
    pub insert: Figures,
    pub echo: Figures,
}

async fn bench_backend(backend: Backend, args: &BenchArgs) -> anyhow::Result<Report> {
    let database = match backend {
        Backend::Sqlite => TestDatabase::new(backend, "bench"),
        Backend::Postgres => TestDatabase::postgres(&args.postgres_url, "bench"),
    };
    let db = Database::connect(database.options(), procedo_workflow::MIGRATIONS).await?;
    let (trigger, stop) = procedo_testkit::shutdown_channel();
    let workflow = Workflow::start(
        db.clone(),
        procedo_workflow::Settings {
            peers: vec![],
            credentials: Some(ServiceCredentials::Minted {
                signer: DevSigner::new(DEV_JWT_SECRET.as_bytes()),
                subject: "procedo-bench".into(),
            }),
            retry: RetryPolicy::default(),
            deadline_sweep: Duration::from_secs(3600),
        },
        stop.clone(),
    )
    .await?;
    let limits = Limits {
        concurrency_limit: 4096,
        ..Limits::default()
    };
    let (mut routes, health) = server::standard_routes()?;
    workflow.add_routes(&mut routes, &Tokens::verifier(), &limits);
    Workflow::report_serving(&health).await;
    let mut server = TestServer::start(routes.routes(), limits, trigger, stop).await;
    let tokens = Tokens::default();
    let client: Client = WorkflowServiceClient::with_interceptor(
        server.channel.clone(),
        Bearer(Some(tokens.token(Role::Admin))),
    );

    // Setup: a one-step process and an open task per operation.
    client
        .clone()
        .deploy_process_definition(pb::DeployProcessDefinitionRequest {
            request_id: String::new(),
            definition: Some(one_step()),
        })
        .await?;
    let starter = Arc::new(client.clone());
    measure(args.operations, args.concurrency, |i| {
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

    let worker = Arc::new(client.clone());
    let tasks = Arc::new(tasks);
    let task_figures = measure(args.operations, args.concurrency, |i| {
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

    // Ceiling 1: one durable single-row write.
    sqlx::query("CREATE TABLE bench_ceiling (id TEXT PRIMARY KEY, at BIGINT NOT NULL)")
        .execute(db.reader())
        .await?;
    let insert = measure(args.operations, args.concurrency, |i| {
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
    let health = tonic_health::pb::health_client::HealthClient::new(server.channel.clone());
    let echo = measure(args.operations, args.concurrency, |_| {
        let mut h = health.clone();
        async move {
            h.check(tonic_health::pb::HealthCheckRequest::default())
                .await?;
            Ok(())
        }
    })
    .await?;

    server.stop().await;
    db.close().await;
    Ok(Report {
        backend: match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        },
        tasks: task_figures,
        insert,
        echo,
    })
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
        args.operations >= 1 && args.concurrency >= 1,
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
        "procedo bench — scenario \"tasks\": {} task completions, {} concurrent clients ({build})",
        args.operations, args.concurrency
    );
    println!();
    println!("| backend | measure | ops/s | p50 ms | p90 ms | p99 ms | of insert ceiling |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for backend in backends {
        let r = bench_backend(*backend, &args).await?;
        let rows = [
            ("CompleteTask (workflow)", &r.tasks),
            ("ceiling: insert transaction", &r.insert),
            ("ceiling: gRPC round trip", &r.echo),
        ];
        for (what, f) in rows {
            println!(
                "| {} | {what} | {:.0} | {} | {} | {} | {:.0}% |",
                r.backend,
                f.per_second,
                ms(f.p50),
                ms(f.p90),
                ms(f.p99),
                100.0 * f.per_second / r.insert.per_second
            );
        }
    }
    Ok(())
}
