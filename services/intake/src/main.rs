//! `procedo-intake`: the intake service on its own, as deployed in a
//! container. All the work is in the library.

use clap::Parser as _;
use procedo_intake::config::Config;
use procedo_intake::{Intake, MIGRATIONS, SERVICE};
use procedo_platform::{db::Database, server, shutdown, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    config.server.validate()?;
    let _telemetry = telemetry::init("procedo-intake", &config.telemetry)?;
    let loopback = config.server.listen.ip().is_loopback();
    let verifier = config.auth.verifier(loopback)?;
    let credentials = config.auth.service_credentials(SERVICE, loopback);
    let settings = config.intake.settings(&config.outbox, credentials)?;
    let db = Database::connect(&config.database.options(SERVICE)?, MIGRATIONS).await?;

    let (trigger, stop) = shutdown::channel();
    let intake = Intake::start(db.clone(), settings, stop.clone())?;
    let limits = config.server.limits();
    let (mut routes, health) = server::standard_routes()?;
    intake.add_routes(&mut routes, &verifier, &limits);
    Intake::report_serving(&health).await;

    let listener = server::bind(config.server.listen).await?;
    tracing::info!(address = %listener.local_addr()?, "intake serving");
    server::serve(listener, routes.routes(), limits, async move {
        server::shutdown_signal().await;
        trigger.fire();
    })
    .await?;
    stop.wait().await;
    db.close().await;
    Ok(())
}
