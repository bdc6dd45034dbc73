//! `procedo dev`: every service in one process, SQLite files in a data
//! folder, fixed local ports, development token signing.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use procedo_intake::config::IntakeArgs;
use procedo_intake::{Intake, MIGRATIONS, SERVICE};
use procedo_platform::auth::{DevSigner, Role, Verifier};
use procedo_platform::config::{DEV_JWT_SECRET, DatabaseArgs, OutboxArgs, TelemetryArgs};
use procedo_platform::db::Database;
use procedo_platform::server::{self, Limits};
use procedo_platform::{shutdown, telemetry};

#[derive(Debug, clap::Args)]
pub struct DevArgs {
    /// Address the services listen on.
    #[arg(long, env = "PROCEDO_DEV_HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Port of the intake service.
    #[arg(long, env = "PROCEDO_DEV_INTAKE_PORT", default_value_t = 7101)]
    pub intake_port: u16,

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
    let limits = Limits::default();
    let data_dir: PathBuf = args.database.data_dir.clone();

    let (trigger, stop) = shutdown::channel();
    let db = Database::connect(&args.database.options(SERVICE)?, MIGRATIONS).await?;
    let intake = Intake::start(
        db.clone(),
        args.intake.settings(args.outbox.policy()?),
        stop.clone(),
    )?;
    let (mut routes, health) = server::standard_routes()?;
    intake.add_routes(&mut routes, &verifier, &limits);
    Intake::report_serving(&health).await;
    let listener = server::bind(SocketAddr::new(args.host, args.intake_port)).await?;
    let intake_addr = listener.local_addr()?;
    let serving = tokio::spawn(server::serve(
        listener,
        routes.routes(),
        limits,
        stop.clone().wait(),
    ));

    let admin =
        DevSigner::new(secret.as_bytes()).token("dev-admin", "ops", &[Role::Admin], 12 * 3600);
    println!(
        "Procedo dev is ready in {} ms",
        started.elapsed().as_millis()
    );
    println!();
    println!("  intake   http://{intake_addr}   (procedo.intake.v1.IntakeService)");
    println!("  data     {}", data_dir.display());
    println!();
    println!("Admin token (12h):");
    println!("  export PROCEDO_TOKEN={admin}");
    println!();
    println!("Try: grpcurl -plaintext {intake_addr} list");
    println!("Stop with Ctrl-C.");

    server::shutdown_signal().await;
    trigger.fire();
    tokio::time::timeout(Duration::from_secs(30), serving)
        .await
        .ok();
    db.close().await;
    Ok(())
}
