//! One way to run a service: every Procedo service implements [`Service`]
//! and starts through [`run`] (or [`start`] then [`Started::serve`]), so the
//! binaries, `procedo dev`, the test helpers, the cross-service tests and
//! `procedo bench` all take the same path from settings to a serving
//! server.
//!
//! The runner checks the settings, connects the database and runs the
//! migrations, starts a relay for each peer, lets the service build its
//! handlers and background workers, serves them behind authentication with
//! health, reflection, the event sink and the server's limits, and on
//! shutdown drains the calls in flight, stops the workers and closes the
//! database.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args as _, CommandFactory as _, FromArgMatches as _};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic::service::interceptor::InterceptedService;

use crate::auth::AuthInterceptor;
use crate::calendars::{self, CalendarApi, Calendars, Keeper, Recompute};
use crate::config::{AuthArgs, CompanyArgs, DatabaseArgs, OutboxArgs, ServerArgs, TelemetryArgs};
use crate::db::{Database, Migrations};
use crate::inbox::{Events, Sink};
use crate::mutation::{Commits, Mutations};
use crate::outbox::{Deliver, GrpcSink, Relay, RetryPolicy};
use crate::server::{self, Limits};
use crate::shutdown::{self, Shutdown, Trigger};
use crate::supervise::{Serving, supervise};
use crate::telemetry;
use crate::time::Clock;
use crate::tls::Dialer;

/// Everything a service reads: the platform's settings and its own `A`.
/// Each is a `--flag` and a `PROCEDO_*` variable.
#[derive(Debug, Clone, clap::Parser)]
pub struct Config<A: clap::Args> {
    /// A TOML file of settings, keyed by the flags' names (e.g.
    /// `database_url = "postgres://…"`): environment variables and flags
    /// override it.
    #[arg(long = "config", env = crate::settings::CONFIG_FILE_ENV, value_name = "FILE")]
    pub config_file: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub tls: crate::tls::TlsArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
    #[command(flatten)]
    pub outbox: OutboxArgs,
    #[command(flatten)]
    pub company: CompanyArgs,
    #[command(flatten)]
    pub service: A,
}

/// What a service is to the runner.
pub trait Service: Sized + Send + Sync + 'static {
    /// "intake": its SQLite file, its PostgreSQL schema, its peers' name
    /// for it, the subject of its service tokens.
    const NAME: &'static str;
    /// One line for the binary's `--help`.
    const ABOUT: &'static str;
    /// The port it listens on unless told otherwise (each service its own,
    /// the ones `procedo dev` uses).
    const PORT: u16;
    /// Its tables, for each backend.
    const MIGRATIONS: Migrations;
    /// Whether it keeps the company's calendars (one service does: the
    /// others apply the versions it sends).
    const KEEPS_CALENDARS: bool = false;
    /// Counts it reports as gauges while metrics are on (overdue work).
    const SAMPLES: &'static [crate::metrics::Sample] = &[];
    /// Its own settings, beside the platform's.
    type Args: clap::Args + Clone + fmt::Debug + Send + Sync + 'static;
    /// How it applies the events its peers deliver.
    type Events: Events;

    /// Builds the handlers and starts the background workers.
    fn build(
        ctx: &mut Context,
        args: Self::Args,
    ) -> impl Future<Output = anyhow::Result<Self>> + Send;

    /// Adds the service's gRPC services.
    fn routes(&self, routes: &mut Routes);

    /// The receiver of peers' events.
    fn events(&self) -> Self::Events;

    /// How its deadlines follow a new calendar version.
    fn deadlines(&self) -> Arc<dyn Recompute>;
}

/// What a service builds itself with.
#[derive(Debug)]
pub struct Context {
    name: &'static str,
    db: Database,
    commits: Commits,
    retry: RetryPolicy,
    shutdown: Shutdown,
    serving: Serving,
    zone: chrono_tz::Tz,
    calendars: Calendars,
    clock: Clock,
    data_dir: std::path::PathBuf,
    dialer: Dialer,
    workers: Vec<JoinHandle<()>>,
}

impl Context {
    /// How the service calls others (TLS for `https://` URLs).
    pub fn dialer(&self) -> &Dialer {
        &self.dialer
    }

    /// The company's time zone (years, periods, "today").
    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.zone
    }

    /// The company's working calendars, current versions.
    pub fn calendars(&self) -> Calendars {
        self.calendars.clone()
    }

    /// Where the domain reads "now".
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// The data folder (PROCEDO_DATA_DIR): local files a service keeps
    /// beside its database.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// The mutation shape over the service's database; commits wake its
    /// relays.
    pub fn mutations(&self) -> Mutations {
        Mutations::new(self.db.clone(), self.commits.clone())
    }

    /// How the service's relays retry.
    pub fn retry(&self) -> RetryPolicy {
        self.retry
    }

    /// Starts a relay delivering the outbox rows of `destination`,
    /// supervised.
    pub fn relay<D: Deliver + Clone>(&mut self, destination: &str, deliverer: D) {
        let (db, commits, retry) = (self.db.clone(), self.commits.clone(), self.retry);
        let name = destination.to_owned();
        // One owner across restarts: a restarted relay frees what the failed
        // run had claimed.
        let owner = uuid::Uuid::now_v7().to_string();
        self.spawn(&format!("outbox relay to {destination}"), move |stop| {
            Relay::new(db.clone(), &name, deliverer.clone(), retry)
                .woken_by(&commits)
                .owned_by(&owner)
                .run(stop.wait())
        });
    }

    /// Runs a background loop `start` makes, supervised: restarted with
    /// backoff when it panics, the service NOT_SERVING meanwhile. It is
    /// told to stop through its [`Shutdown`] once the server has drained.
    pub fn spawn<F, Fut>(&mut self, name: &str, start: F)
    where
        F: FnMut(Shutdown) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let worker = format!("{}: {name}", self.name);
        tracing::debug!(%worker, "background worker started");
        self.workers.push(tokio::spawn(supervise(
            worker,
            self.serving.clone(),
            self.shutdown.clone(),
            start,
        )));
    }
}

/// Every call of a service's own RPCs passes this: authenticated, then
/// refused at once with UNAVAILABLE while the database is known down
/// (instead of waiting out the connection timeout).
#[derive(Debug, Clone)]
struct Gate {
    auth: AuthInterceptor,
    serving: Serving,
}

impl tonic::service::Interceptor for Gate {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let request = self.auth.call(request)?;
        if self.serving.database_answers() {
            Ok(request)
        } else {
            Err(tonic::Status::unavailable(
                "the database is unavailable; retry later",
            ))
        }
    }
}

/// How often the database is asked whether it answers, and how long it has
/// to.
const DATABASE_WATCH: Duration = Duration::from_millis(500);
const DATABASE_PING: Duration = Duration::from_secs(1);

/// Asks the database whether it answers until `stop`, and tells health.
async fn watch_database(db: Database, serving: Serving, stop: Shutdown) {
    let stop = stop.wait();
    tokio::pin!(stop);
    loop {
        let up = db.answers(DATABASE_PING).await;
        if up != serving.database_answers() {
            if up {
                tracing::info!("the database answers again");
            } else {
                tracing::warn!("the database does not answer; calls get UNAVAILABLE until it does");
            }
        }
        serving.database(up).await;
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(DATABASE_WATCH) => {}
        }
    }
}

/// How often the key files are looked at.
const KEY_FILES_WATCH: Duration = Duration::from_secs(2);

/// The verification key files and what they were when last read.
#[derive(Debug, Clone)]
struct KeyFiles {
    paths: Vec<std::path::PathBuf>,
}

impl KeyFiles {
    fn of(auth: &AuthArgs) -> Option<KeyFiles> {
        let paths: Vec<_> = [&auth.jwt_public_key_file, &auth.jwks_file]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        (!paths.is_empty()).then_some(KeyFiles { paths })
    }

    /// What identifies each file's content cheaply: its modification time
    /// and length (`None` while it cannot be read, mid-replacement).
    fn stamp(&self) -> Vec<Option<(std::time::SystemTime, u64)>> {
        self.paths
            .iter()
            .map(|p| {
                let meta = std::fs::metadata(p).ok()?;
                Some((meta.modified().ok()?, meta.len()))
            })
            .collect()
    }
}

/// Re-reads the verification keys whenever their files change (an
/// identity provider's keys rotated, a Kubernetes secret updated), until
/// `stop`. Keys that do not read keep the ones in use, said in a warning.
async fn reread_keys(
    files: KeyFiles,
    auth: AuthArgs,
    loopback: bool,
    keys: crate::auth::Keys,
    stop: Shutdown,
) {
    let stop = stop.wait();
    tokio::pin!(stop);
    let mut seen = files.stamp();
    loop {
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(KEY_FILES_WATCH) => {}
        }
        let now = files.stamp();
        if now == seen || now.iter().any(Option::is_none) {
            continue;
        }
        seen = now;
        match auth.verifier(loopback) {
            Ok(verifier) => {
                keys.replace(verifier);
                tracing::info!(files = ?files.paths, "verification keys re-read");
            }
            Err(e) => tracing::warn!(
                error = format!("{e:#}"),
                "the changed key files do not read; keeping the keys in use"
            ),
        }
    }
}

/// The services a server carries: each is authenticated, bounded by the
/// message limit the service applies, and reported serving in health.
#[allow(missing_debug_implementations)]
pub struct Routes {
    builder: RoutesBuilder,
    gate: Gate,
    max_message_bytes: usize,
    names: Vec<&'static str>,
}

impl Routes {
    /// The largest message a service may decode or encode; set it on each
    /// generated server (`max_decoding_message_size`).
    pub fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }

    /// Adds `service`, behind authentication.
    pub fn add<S>(&mut self, service: S)
    where
        S: tower::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.builder
            .add_service(InterceptedService::new(service, self.gate.clone()));
    }
}

/// What stopping workers and closing the database may take beyond the
/// grace period.
const AFTER_GRACE: Duration = Duration::from_millis(500);

/// A service built and ready to serve on its listener.
#[allow(missing_debug_implementations)]
pub struct Started {
    listener: TcpListener,
    routes: tonic::service::Routes,
    limits: Limits,
    tls: Option<tonic::transport::ServerTlsConfig>,
    db: Database,
    trigger: Trigger,
    serving: Serving,
    workers: Vec<JoinHandle<()>>,
}

impl Started {
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// The service's database (tests hold its locks, or read it directly).
    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Serves until `shutdown` resolves, then drains: health says
    /// NOT_SERVING at once (so load balancers stop sending), the background
    /// workers are told to stop and the calls in flight get the grace
    /// period to finish; those that do not are cancelled (their
    /// transactions roll back). Within moments of the grace period the
    /// workers are stopped and the database closed, whatever still holds
    /// it.
    pub async fn serve(mut self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let (trigger, serving) = (self.trigger, self.serving);
        let signalled = async move {
            shutdown.await;
            serving.drain().await;
            trigger.fire();
        };
        let served =
            server::serve(self.listener, self.routes, self.limits, self.tls, signalled).await;
        let mut workers = futures::future::join_all(self.workers.iter_mut());
        if tokio::time::timeout(AFTER_GRACE, &mut workers)
            .await
            .is_err()
        {
            tracing::warn!("background workers did not stop in time; cancelling them");
            drop(workers);
            for worker in &self.workers {
                worker.abort();
            }
        }
        if tokio::time::timeout(AFTER_GRACE, self.db.close())
            .await
            .is_err()
        {
            tracing::warn!("database connections still in use at shutdown; leaving them");
        }
        served
    }
}

/// Builds service `S` from `config` and makes it ready on `listener`.
pub async fn start<S: Service>(
    config: Config<S::Args>,
    listener: TcpListener,
) -> anyhow::Result<Started> {
    let limits = config.server.limits.limits()?;
    let tls = config.tls.server()?;
    let dialer = config.tls.dialer()?;
    // What the listener is bound to decides, not what was asked for.
    let loopback = listener.local_addr()?.ip().is_loopback();
    let keys = crate::auth::Keys::new(config.auth.verifier(loopback)?);
    match config
        .auth
        .page_token_key
        .as_deref()
        .filter(|k| !k.is_empty())
    {
        Some(key) => crate::paging::use_key(key)?,
        None if !loopback => tracing::warn!(
            "PROCEDO_PAGE_TOKEN_KEY is not set: page tokens hold on this process only, \
             until it restarts; give every replica the same key"
        ),
        None => {}
    }
    let retry = config.outbox.policy()?;
    let retention = config.outbox.retention()?;
    let zone = config.company.zone();
    let calendars = Calendars::seeded(config.company.calendar(zone)?);
    let options = config.database.options(S::NAME)?;
    let db = Database::connect(&options, S::MIGRATIONS)
        .await
        .with_context(|| format!("{}'s database", S::NAME))?;
    calendars
        .load(&db)
        .await
        .map_err(|e| anyhow::anyhow!("reading the calendars: {e}"))?;
    let (trigger, stop) = shutdown::channel();
    let (builder, health) = server::standard_routes();
    let serving = Serving::new(health);
    let mut ctx = Context {
        name: S::NAME,
        db: db.clone(),
        commits: Commits::default(),
        retry,
        shutdown: stop,
        serving: serving.clone(),
        zone,
        calendars: calendars.clone(),
        clock: config.company.clock.clone(),
        data_dir: config.database.data_dir.clone(),
        dialer: dialer.clone(),
        workers: Vec::new(),
    };
    if !config.outbox.peers.is_empty() {
        let credentials = config
            .auth
            .service_credentials(S::NAME, loopback)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "PROCEDO_SERVICE_TOKEN must be set: this service sends events to its peers \
                     and cannot mint tokens they accept"
                )
            })?;
        for peer in &config.outbox.peers {
            let mut sink = GrpcSink::new(
                dialer
                    .endpoint(&peer.url)
                    .with_context(|| format!("peer {}", peer.name))?,
                credentials.clone(),
                retry.timeout,
            );
            // Audit records, one for every change of every service, go
            // many to a call so the log keeps up.
            if peer.name == crate::outbox::AUDIT {
                sink = sink.batched();
            }
            ctx.relay(&peer.name, sink);
        }
    }
    let service = S::build(&mut ctx, config.service)
        .await
        .with_context(|| format!("starting {}", S::NAME))?;
    let recompute = service.deadlines();
    let keeper = S::KEEPS_CALENDARS.then(|| Keeper {
        source: format!("procedo.{}", S::NAME),
        // Services, not the audit trail (which is a destination, whoever
        // receives it), hear of calendars.
        peers: config
            .outbox
            .peers
            .iter()
            .filter(|p| p.name != crate::outbox::AUDIT)
            .map(|p| p.name.clone())
            .collect(),
    });
    if let Some(keeper) = &keeper {
        keeper
            .start(&db, &calendars, recompute.as_ref())
            .await
            .map_err(|e| anyhow::anyhow!("storing the first calendar: {e}"))?;
        ctx.mutations().committed();
    }
    {
        let (db, calendars, recompute) = (db.clone(), calendars.clone(), recompute.clone());
        ctx.spawn("calendar refresh", move |stop| {
            calendars::refresh(db.clone(), calendars.clone(), recompute.clone(), stop)
        });
    }
    {
        let (db, clock) = (db.clone(), ctx.clock());
        let every = config.outbox.retention_sweep;
        ctx.spawn("retention", move |stop| {
            let (db, clock) = (db.clone(), clock.clone());
            async move {
                loop {
                    tokio::select! {
                        () = stop.clone().wait() => return,
                        () = tokio::time::sleep(every) => {}
                    }
                    match crate::retention::prune(&db, &retention, clock.now()).await {
                        Ok(pruned) if pruned != crate::retention::Pruned::default() => {
                            tracing::info!(?pruned, "deleted what is past its retention");
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "the retention sweep failed; trying again")
                        }
                    }
                }
            }
        });
    }
    if config.telemetry.metrics_listen.is_some() || config.telemetry.otlp().is_some() {
        let (db, sampler) = (
            db.clone(),
            crate::metrics::Sampler::registered(S::NAME, S::SAMPLES),
        );
        ctx.spawn("metrics sampling", move |stop| {
            sampler.clone().run(db.clone(), S::SAMPLES, stop)
        });
    }
    if let Some(files) = KeyFiles::of(&config.auth) {
        let (auth, keys) = (config.auth.clone(), keys.clone());
        ctx.spawn("key files watch", move |stop| {
            reread_keys(files.clone(), auth.clone(), loopback, keys.clone(), stop)
        });
    }
    {
        let (db, serving) = (db.clone(), serving.clone());
        ctx.spawn("database watch", move |stop| {
            watch_database(db.clone(), serving.clone(), stop)
        });
    }
    {
        let db = db.clone();
        // Its callback stays with the meter provider for the life of the
        // process.
        crate::metrics::meter()
            .u64_observable_gauge("db.client.connection.count")
            .with_description("Database connections, in use and idle")
            .with_callback(move |observer| {
                let (used, idle) = db.connections();
                for (state, count) in [("used", used), ("idle", idle)] {
                    observer.observe(
                        count,
                        &[
                            opentelemetry::KeyValue::new(
                                "db.client.connection.pool.name",
                                db.pool_name().to_owned(),
                            ),
                            opentelemetry::KeyValue::new("db.client.connection.state", state),
                        ],
                    );
                }
            })
            .build();
    }
    let mut routes = Routes {
        builder,
        gate: Gate {
            auth: AuthInterceptor::new(keys.clone()),
            serving: serving.clone(),
        },
        max_message_bytes: limits.max_message_bytes,
        names: Vec::new(),
    };
    service.routes(&mut routes);
    routes.add(
        procedo_proto::calendar::calendar_service_server::CalendarServiceServer::new(
            CalendarApi::new(
                ctx.mutations(),
                calendars.clone(),
                recompute.clone(),
                ctx.clock(),
                keeper,
            ),
        )
        .max_decoding_message_size(limits.max_message_bytes),
    );
    routes.add(
        procedo_proto::common::outbox_service_server::OutboxServiceServer::new(
            crate::outbox_api::OutboxApi::new(ctx.mutations()),
        ),
    );
    let sink = Sink::new(ctx.mutations(), service.events()).with_calendars(calendars, recompute);
    routes.add(
        procedo_proto::common::event_sink_service_server::EventSinkServiceServer::new(sink)
            .max_decoding_message_size(limits.max_message_bytes),
    );
    serving.serve(routes.names.clone()).await;
    server::reflection(&mut routes.builder, &routes.names)?;
    Ok(Started {
        listener,
        routes: routes.builder.routes(),
        limits,
        tls,
        db,
        trigger,
        serving,
        workers: ctx.workers,
    })
}

/// Runs service `S` from `config` on `listener` until `shutdown` resolves.
pub async fn run<S: Service>(
    config: Config<S::Args>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    start::<S>(config, listener).await?.serve(shutdown).await
}

/// The command line of service `S`'s binary, named `binary`: its settings
/// and the `health` subcommand.
pub fn command<S: Service>(binary: &'static str) -> clap::Command {
    Config::<S::Args>::command()
        .name(binary)
        .bin_name(binary)
        .about(S::ABOUT)
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand(
            crate::probe::Probe::augment_args(clap::Command::new("health"))
                .about("Asks a running server's health: exit 0 when SERVING, 1 otherwise"),
        )
}

/// The whole of a service's binary: reads its settings (flags, the
/// environment, secrets files, the configuration file: see
/// [`crate::settings`]), starts telemetry, listens, and runs until Ctrl-C
/// or SIGTERM; or, as `health`, asks a running server's health. A failure
/// to start is logged like every other line (JSON when
/// `PROCEDO_LOG_FORMAT=json`) and exits 1.
pub async fn main<S: Service>(binary: &'static str) -> std::process::ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let command = command::<S>(binary);
    let json = std::env::var("PROCEDO_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let command = match crate::settings::layered(command, &args) {
        Ok(command) => command,
        Err(e) => return failed(binary, json, &e),
    };
    let matches = match command.try_get_matches_from(&args) {
        Ok(matches) => matches,
        // Help and version are not failures; clap prints them.
        Err(e) if !e.use_stderr() || !json => e.exit(),
        Err(e) => return failed(binary, json, &anyhow::anyhow!("{}", e.render())),
    };
    let config = match Config::<S::Args>::from_arg_matches(&matches) {
        Ok(config) => config,
        Err(e) => return failed(binary, json, &e.into()),
    };
    let listen = config.server.listen_on(S::PORT);
    if let Some(("health", probe)) = matches.subcommand() {
        let asked = match crate::probe::Probe::from_arg_matches(probe) {
            Ok(probe) => probe.run(listen, &config.tls).await,
            Err(e) => Err(e.into()),
        };
        return match asked {
            Ok(()) => {
                println!("SERVING");
                std::process::ExitCode::SUCCESS
            }
            Err(e) => failed(binary, json, &e),
        };
    }
    let json = config.telemetry.log_format == crate::config::LogFormat::Json;
    let _telemetry = match telemetry::init(binary, &config.telemetry) {
        Ok(guard) => guard,
        Err(e) => return failed(binary, json, &e),
    };
    let served = async {
        let listener = server::bind(listen).await?;
        tracing::info!(address = %listener.local_addr()?, "{} serving", S::NAME);
        run::<S>(config, listener, server::shutdown_signal()).await
    };
    match served.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "{} stopped", S::NAME);
            std::process::ExitCode::FAILURE
        }
    }
}

/// Says why the binary stops before its logs are set up: a line on
/// standard error, shaped like the log lines when they are JSON.
fn failed(binary: &str, json: bool, error: &anyhow::Error) -> std::process::ExitCode {
    let error = format!("{error:#}");
    if json {
        let line = serde_json::json!({
            "timestamp": chrono::DateTime::from_timestamp_millis(crate::time::now())
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            "level": "ERROR",
            "message": format!("{binary} could not start"),
            "error": error.trim_end(),
        });
        eprintln!("{line}");
    } else {
        eprintln!("{binary}: {}", error.trim_end());
    }
    std::process::ExitCode::FAILURE
}
