//! `procedo-workflow`: the workflow service on its own, as deployed in a
//! container. All the work is in the library.

use clap::Parser as _;
use procedo_platform::{db::Database, server, shutdown, telemetry};
use procedo_workflow::config::Config;
use procedo_workflow::{MIGRATIONS, SERVICE, Settings, Workflow};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    config.server.validate()?;
    let _telemetry = telemetry::init("procedo-workflow", &config.telemetry)?;
    let loopback = config.server.listen.ip().is_loopback();
    let verifier = config.auth.verifier(loopback)?;
    let settings = Settings {
        peers: config.outbox.peers.clone(),
        credentials: config.auth.service_credentials(SERVICE, loopback),
        retry: config.outbox.policy()?,
        deadline_sweep: config.workflow.deadline_sweep,
    };
    let db = Database::connect(&config.database.options(SERVICE)?, MIGRATIONS).await?;

    let (trigger, stop) = shutdown::channel();
    let workflow = Workflow::start(db.clone(), settings, stop.clone()).await?;
    let limits = config.server.limits();
    let (mut routes, health) = server::standard_routes()?;
    workflow.add_routes(&mut routes, &verifier, &limits);
    Workflow::report_serving(&health).await;

    let listener = server::bind(config.server.listen).await?;
    tracing::info!(address = %listener.local_addr()?, "workflow serving");
    server::serve(listener, routes.routes(), limits, async move {
        server::shutdown_signal().await;
        trigger.fire();
    })
    .await?;
    stop.wait().await;
    db.close().await;
    Ok(())
}
