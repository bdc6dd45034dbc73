//! `procedo dev`: every service in one process, SQLite files in a data
//! folder, fixed local ports, development token signing, and the services
//! wired to each other (intake's accepted applications start workflow
//! processes; workflow reports progress back to intake).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use procedo_intake::Intake;
use procedo_intake::config::IntakeArgs;
use procedo_platform::auth::{DevSigner, Role, ServiceCredentials, Verifier};
use procedo_platform::config::{DEV_JWT_SECRET, DatabaseArgs, OutboxArgs, Peer, TelemetryArgs};
use procedo_platform::db::Database;
use procedo_platform::server::{self, Limits};
use procedo_platform::shutdown::Shutdown;
use procedo_platform::{shutdown, telemetry};
use procedo_workflow::Workflow;
use procedo_workflow::config::WorkflowArgs;
use tokio::task::JoinHandle;
use tonic::service::RoutesBuilder;

#[derive(Debug, clap::Args)]
pub struct DevArgs {
    /// Address the services listen on.
    #[arg(long, env = "PROCEDO_DEV_HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Port of the intake service.
    #[arg(long, env = "PROCEDO_DEV_INTAKE_PORT", default_value_t = 7101)]
    pub intake_port: u16,

    /// Port of the workflow service.
    #[arg(long, env = "PROCEDO_DEV_WORKFLOW_PORT", default_value_t = 7102)]
    pub workflow_port: u16,

    /// HS256 secret tokens are signed and checked with; the development
    /// secret when unset.
    #[arg(long, env = "PROCEDO_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub telemetry: TelemetryArgs,

    #[command(flatten)]
    pub outbox: OutboxArgs,

    #[command(flatten)]
    pub intake: IntakeArgs,

    #[command(flatten)]
    pub workflow: WorkflowArgs,
}

/// Binds `port` and serves the routes `add` builds, until `stop`.
async fn serve(
    addr: SocketAddr,
    add: impl FnOnce(&mut RoutesBuilder),
    stop: &Shutdown,
) -> anyhow::Result<(
    SocketAddr,
    JoinHandle<anyhow::Result<()>>,
    server::HealthReporter,
)> {
    let (mut routes, health) = server::standard_routes()?;
    add(&mut routes);
    let listener = server::bind(addr).await?;
    let bound = listener.local_addr()?;
    let task = tokio::spawn(server::serve(
        listener,
        routes.routes(),
        Limits::default(),
        stop.clone().wait(),
    ));
    Ok((bound, task, health))
}

pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let _telemetry = telemetry::init("procedo-dev", &args.telemetry)?;
    anyhow::ensure!(
        args.jwt_secret.is_some() || args.host.is_loopback(),
        "PROCEDO_JWT_SECRET must be set when procedo dev listens on a non-loopback address"
    );
    let secret = args.jwt_secret.as_deref().unwrap_or(DEV_JWT_SECRET);
    let verifier = Verifier::hs256(secret.as_bytes());
    let signer = DevSigner::new(secret.as_bytes());
    let credentials = |service: &str| {
        Some(ServiceCredentials::Minted {
            signer: signer.clone(),
            subject: format!("procedo-{service}"),
        })
    };
    let intake_addr = SocketAddr::new(args.host, args.intake_port);
    let workflow_addr = SocketAddr::new(args.host, args.workflow_port);
    let peer = |name: &str, addr: SocketAddr| Peer {
        name: name.to_owned(),
        url: format!("http://{addr}"),
    };
    let limits = Limits::default();
    let (trigger, stop) = shutdown::channel();

    let (intake_options, workflow_options) = (
        args.database.options(procedo_intake::SERVICE)?,
        args.database.options(procedo_workflow::SERVICE)?,
    );
    let (intake_db, workflow_db) = tokio::try_join!(
        Database::connect(&intake_options, procedo_intake::MIGRATIONS),
        Database::connect(&workflow_options, procedo_workflow::MIGRATIONS),
    )?;

    let mut intake_outbox = args.outbox.clone();
    intake_outbox.peers.push(peer("workflow", workflow_addr));
    let intake = Intake::start(
        intake_db.clone(),
        args.intake
            .settings(&intake_outbox, credentials("intake"))?,
        stop.clone(),
    )?;
    let mut workflow_peers = args.outbox.peers.clone();
    workflow_peers.push(peer("intake", intake_addr));
    let workflow = Workflow::start(
        workflow_db.clone(),
        procedo_workflow::Settings {
            peers: workflow_peers,
            credentials: credentials("workflow"),
            retry: args.outbox.policy()?,
            deadline_sweep: args.workflow.deadline_sweep,
        },
        stop.clone(),
    )
    .await?;

    let (intake_addr, intake_task, intake_health) = serve(
        intake_addr,
        |r| intake.add_routes(r, &verifier, &limits),
        &stop,
    )
    .await?;
    Intake::report_serving(&intake_health).await;
    let (workflow_addr, workflow_task, workflow_health) = serve(
        workflow_addr,
        |r| workflow.add_routes(r, &verifier, &limits),
        &stop,
    )
    .await?;
    Workflow::report_serving(&workflow_health).await;

    let admin = signer.token("dev-admin", "ops", &[Role::Admin], 12 * 3600);
    println!(
        "Procedo dev is ready in {} ms",
        started.elapsed().as_millis()
    );
    println!();
    println!("  intake     http://{intake_addr}   (procedo.intake.v1.IntakeService)");
    println!("  workflow   http://{workflow_addr}   (procedo.workflow.v1.WorkflowService)");
    println!("  data       {}", args.database.data_dir.display());
    println!();
    println!("Admin token (12h):");
    println!("  export PROCEDO_TOKEN={admin}");
    println!();
    println!("Try: grpcurl -plaintext {intake_addr} list");
    println!("Stop with Ctrl-C.");

    server::shutdown_signal().await;
    trigger.fire();
    let _ = tokio::time::timeout(Duration::from_secs(30), async {
        let _ = tokio::join!(intake_task, workflow_task);
    })
    .await;
    intake_db.close().await;
    workflow_db.close().await;
    Ok(())
}
