//! `procedo dev`: every service in one process, SQLite files in a data
//! folder, fixed local ports, development token signing, and the services
//! wired to each other (intake's accepted applications start workflow
//! processes; workflow reports progress back to intake and sends every
//! service the company's calendars; every service's audit records go to
//! compliance's audit log).

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use procedo_compliance::ComplianceService;
use procedo_compliance::config::ComplianceArgs;
use procedo_document::DocumentService;
use procedo_document::config::DocumentArgs;
use procedo_intake::Intake;
use procedo_intake::config::IntakeArgs;
use procedo_platform::auth::DevSigner;
use procedo_platform::config::{
    AuthArgs, CompanyArgs, DEV_JWT_SECRET, DatabaseArgs, LimitArgs, OutboxArgs, Peer, ServerArgs,
    TelemetryArgs,
};
use procedo_platform::identity::Role;
use procedo_platform::service::{self, Config, Service};
use procedo_platform::{server, shutdown, telemetry};
use procedo_workflow::Workflow;
use procedo_workflow::config::WorkflowArgs;

#[derive(Debug, clap::Args)]
pub struct DevArgs {
    /// Address the services listen on.
    #[arg(long, env = "PROCEDO_DEV_HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Port of the intake service (0: a free one).
    #[arg(long, env = "PROCEDO_DEV_INTAKE_PORT", default_value_t = <Intake as Service>::PORT)]
    pub intake_port: u16,

    /// Port of the workflow service (0: a free one).
    #[arg(long, env = "PROCEDO_DEV_WORKFLOW_PORT", default_value_t = <Workflow as Service>::PORT)]
    pub workflow_port: u16,

    /// Port of the document service (0: a free one).
    #[arg(long, env = "PROCEDO_DEV_DOCUMENT_PORT", default_value_t = <DocumentService as Service>::PORT)]
    pub document_port: u16,

    /// Port of the compliance service (0: a free one).
    #[arg(long, env = "PROCEDO_DEV_COMPLIANCE_PORT", default_value_t = <ComplianceService as Service>::PORT)]
    pub compliance_port: u16,

    /// HS256 secret tokens are signed and checked with; the development
    /// secret when unset.
    #[arg(long, env = "PROCEDO_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// The company's time zone (IANA name): ledger years and periods
    /// follow it.
    #[arg(
        long = "time-zone",
        env = "PROCEDO_TIME_ZONE",
        default_value = "Asia/Shanghai"
    )]
    pub time_zone: chrono_tz::Tz,

    /// The company's working calendar (YAML, see examples/calendar.yaml);
    /// Monday to Friday, 09:00–12:00 and 13:00–18:00 when unset.
    #[arg(long = "calendar-file", env = "PROCEDO_CALENDAR_FILE")]
    pub calendar_file: Option<std::path::PathBuf>,

    /// The services to run, comma-separated; every one when unset. Events
    /// for a service not run wait in the sender's outbox.
    #[arg(
        long,
        env = "PROCEDO_DEV_SERVICES",
        value_delimiter = ',',
        default_value = "intake,workflow,document,compliance"
    )]
    pub services: Vec<Part>,

    /// Once every service is ready, write their endpoints, an admin token,
    /// the database and this process's id to this file as JSON (for test
    /// harnesses: with ports 0 the services listen on free ports and the
    /// file says which).
    #[arg(long, env = "PROCEDO_DEV_ENDPOINTS_FILE")]
    pub endpoints_file: Option<std::path::PathBuf>,

    /// Keep nothing: the services' SQLite files, document content and keys
    /// live in a fresh folder in memory (/dev/shm where there is one),
    /// removed when procedo dev stops. For test runs.
    #[arg(long, env = "PROCEDO_DEV_IN_MEMORY", conflicts_with = "reset")]
    pub in_memory: bool,

    /// Start from nothing: remove what earlier runs kept in the data folder
    /// (the services' SQLite files, document content, signing keys) first.
    #[arg(long)]
    pub reset: bool,

    #[command(flatten)]
    pub limits: LimitArgs,

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

    #[command(flatten)]
    pub document: DocumentArgs,

    #[command(flatten)]
    pub compliance: ComplianceArgs,
}

impl DevArgs {
    /// One service's settings in the all-in-one: its port, the shared
    /// secret, and every other service as a peer.
    fn config<A: clap::Args>(&self, port: u16, peers: Vec<Peer>, service: A) -> Config<A> {
        let mut outbox = self.outbox.clone();
        outbox.peers.extend(peers);
        Config {
            tls: Default::default(),
            config_file: None,
            server: ServerArgs {
                listen: Some(SocketAddr::new(self.host, port)),
                limits: self.limits.clone(),
            },
            database: self.database.clone(),
            auth: AuthArgs {
                jwt_secret: self.jwt_secret.clone(),
                jwt_public_key_file: None,
                jwks_file: None,
                jwt_issuer: None,
                jwt_audience: None,
                service_token: None,
                page_token_key: None,
            },
            telemetry: self.telemetry.clone(),
            outbox,
            company: CompanyArgs {
                time_zone: Some(self.time_zone),
                calendar_file: self.calendar_file.clone(),
                clock: procedo_platform::time::Clock::system(),
            },
            service,
        }
    }
}

/// A service `procedo dev` can run (and the one `procedo outbox` and
/// `procedo status` ask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    Intake,
    Workflow,
    Document,
    Compliance,
}

impl Part {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Part::Intake => "intake",
            Part::Workflow => "workflow",
            Part::Document => "document",
            Part::Compliance => "compliance",
        }
    }

    /// Its name in traces, as its own binary's.
    fn service_name(self) -> &'static str {
        match self {
            Part::Intake => "procedo-intake",
            Part::Workflow => "procedo-workflow",
            Part::Document => "procedo-document",
            Part::Compliance => "procedo-compliance",
        }
    }

    /// The gRPC services it serves, for the banner.
    fn grpc(self) -> &'static str {
        match self {
            Part::Intake => "procedo.intake.v1.IntakeService",
            Part::Workflow => "procedo.workflow.v1.WorkflowService",
            Part::Document => "procedo.document.v1.DocumentService",
            Part::Compliance => {
                "procedo.compliance.v1.AuditLogService, InspectionService, RectificationService, FilingService, AssessmentService, DirectoryService, TrainingService, PolicyService"
            }
        }
    }

    fn port(self, args: &DevArgs) -> u16 {
        match self {
            Part::Intake => args.intake_port,
            Part::Workflow => args.workflow_port,
            Part::Document => args.document_port,
            Part::Compliance => args.compliance_port,
        }
    }

    /// Where the client commands look for it.
    pub(crate) fn client(self) -> crate::client::Service {
        match self {
            Part::Intake => crate::client::INTAKE,
            Part::Workflow => crate::client::WORKFLOW,
            Part::Document => crate::client::DOCUMENT,
            Part::Compliance => crate::client::COMPLIANCE,
        }
    }

    /// The flag that moves it to another port, for the message when its
    /// port is taken.
    fn port_flag(self) -> &'static str {
        match self {
            Part::Intake => "--intake-port (PROCEDO_DEV_INTAKE_PORT)",
            Part::Workflow => "--workflow-port (PROCEDO_DEV_WORKFLOW_PORT)",
            Part::Document => "--document-port (PROCEDO_DEV_DOCUMENT_PORT)",
            Part::Compliance => "--compliance-port (PROCEDO_DEV_COMPLIANCE_PORT)",
        }
    }
}

type Starting = futures::future::BoxFuture<'static, anyhow::Result<service::Started>>;

/// The threads one embedded service runs on: the spans made there are
/// exported under its own name (`procedo-intake`, …), not the process's.
struct Embedded(Option<tokio::runtime::Runtime>);

impl Drop for Embedded {
    fn drop(&mut self) {
        // Dropped from async code, which must not block; by then its tasks
        // have ended, or are abandoned because start-up failed.
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl Embedded {
    fn new(part: Part) -> anyhow::Result<Embedded> {
        let service = part.service_name();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(service)
            .enable_all()
            .on_thread_start(move || telemetry::serving_on_this_thread(service))
            .build()?;
        Ok(Embedded(Some(runtime)))
    }

    fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.as_ref().expect("running until dropped").spawn(task)
    }
}

pub async fn run(mut args: DevArgs) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let started = Instant::now();
    anyhow::ensure!(
        args.database.database_url.is_none() || !(args.in_memory || args.reset),
        "--in-memory and --reset are for procedo dev's own SQLite files; with \
         PROCEDO_DATABASE_URL, use a fresh --database-schema instead"
    );
    // Removed when procedo dev returns, whichever way it stops.
    let _in_memory = if args.in_memory {
        let folder = in_memory_folder()?;
        args.database.data_dir = folder.path().to_owned();
        Some(folder)
    } else {
        if args.reset {
            reset(&args.database.data_dir)?;
        }
        None
    };
    anyhow::ensure!(
        args.jwt_secret.is_some() || args.host.is_loopback(),
        "PROCEDO_JWT_SECRET must be set when procedo dev listens on a non-loopback address"
    );
    let secret = args.jwt_secret.as_deref().unwrap_or(DEV_JWT_SECRET);
    let signer = DevSigner::new(secret.as_bytes());

    let mut parts: Vec<Part> = Vec::with_capacity(args.services.len());
    for &part in &args.services {
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    anyhow::ensure!(!parts.is_empty(), "--services names no service");
    let names: Vec<&'static str> = parts.iter().map(|p| p.service_name()).collect();
    let _telemetry = telemetry::init_embedded("procedo-dev", &names, &args.telemetry)?;
    let mut listeners = Vec::with_capacity(parts.len());
    for &part in &parts {
        let port = part.port(&args);
        let listener = server::bind(SocketAddr::new(args.host, port))
            .await
            .with_context(|| {
                format!(
                    "{} cannot listen on {}:{port}; choose another port with {} (0 picks a free one)",
                    part.name(),
                    args.host,
                    part.port_flag()
                )
            })?;
        listeners.push(listener);
    }
    let addrs: Vec<(Part, SocketAddr)> = parts
        .iter()
        .zip(&listeners)
        .map(|(&part, l)| Ok((part, l.local_addr()?)))
        .collect::<std::io::Result<_>>()?;
    let url_of = |part: Part| {
        addrs
            .iter()
            .find(|(p, _)| *p == part)
            .map(|(_, addr)| format!("http://{addr}"))
    };
    // Every service sends its events to every other one running, by name,
    // and its audit records to compliance; events for a service not run
    // wait in the sender's outbox.
    let peers = |me: Part| -> Vec<Peer> {
        let mut peers: Vec<Peer> = addrs
            .iter()
            .filter(|(part, _)| *part != me)
            .map(|(part, addr)| Peer {
                name: part.name().to_owned(),
                url: format!("http://{addr}"),
            })
            .collect();
        if let (true, Some(url)) = (me != Part::Compliance, url_of(Part::Compliance)) {
            peers.push(Peer {
                name: procedo_platform::outbox::AUDIT.to_owned(),
                url,
            });
        }
        peers
    };
    let mut starting: Vec<Starting> = Vec::with_capacity(parts.len());
    for (&part, listener) in parts.iter().zip(listeners) {
        let port = part.port(&args);
        // Made again on the service's own runtime, whose reactor serves it.
        let listener = listener.into_std()?;
        let listener = move || tokio::net::TcpListener::from_std(listener);
        starting.push(match part {
            Part::Intake => {
                // Intake checks materials given as document references
                // with the document service running beside it.
                let mut intake = args.intake.clone();
                if intake.document_url.is_none() {
                    intake.document_url = url_of(Part::Document);
                }
                let config = args.config(port, peers(part), intake);
                Box::pin(async move { service::start::<Intake>(config, listener()?).await })
            }
            Part::Workflow => {
                // Workflow checks plan and acceptance-report references
                // with it too.
                let mut workflow = args.workflow.clone();
                if workflow.document_url.is_none() {
                    workflow.document_url = url_of(Part::Document);
                }
                let config = args.config(port, peers(part), workflow);
                Box::pin(async move { service::start::<Workflow>(config, listener()?).await })
            }
            Part::Document => {
                let config = args.config(port, peers(part), args.document.clone());
                Box::pin(
                    async move { service::start::<DocumentService>(config, listener()?).await },
                )
            }
            Part::Compliance => {
                // Compliance's inspections sample from the three others.
                let mut compliance = args.compliance.clone();
                for (url, from) in [
                    (&mut compliance.intake_url, Part::Intake),
                    (&mut compliance.workflow_url, Part::Workflow),
                    (&mut compliance.document_url, Part::Document),
                ] {
                    if url.is_none() {
                        *url = url_of(from);
                    }
                }
                let config = args.config(port, peers(part), compliance);
                Box::pin(
                    async move { service::start::<ComplianceService>(config, listener()?).await },
                )
            }
        });
    }
    let embedded = parts
        .iter()
        .map(|&part| Embedded::new(part))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let services = futures::future::try_join_all(
        embedded
            .iter()
            .zip(starting)
            .map(|(on, start)| on.spawn(start)),
    )
    .await?
    .into_iter()
    .collect::<anyhow::Result<Vec<_>>>()?;

    let admin = signer.token("dev-admin", "ops", &[Role::Admin], 12 * 3600);
    let database = match &args.database.database_url {
        Some(url) => {
            let schemas = match &args.database.database_schema {
                Some(schema) => schema.clone(),
                None => parts
                    .iter()
                    .map(|p| p.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            let backend = match procedo_platform::db::Backend::of_url(url)? {
                procedo_platform::db::Backend::Postgres => "PostgreSQL",
                procedo_platform::db::Backend::Sqlite => "SQLite",
            };
            format!("{backend} at PROCEDO_DATABASE_URL, schemas {schemas}")
        }
        None if args.in_memory => format!(
            "SQLite in memory, in {} (removed at exit)",
            args.database.data_dir.display()
        ),
        None => format!("SQLite files in {}", args.database.data_dir.display()),
    };
    if let Some(path) = &args.endpoints_file {
        let mut endpoints = serde_json::Map::new();
        for (part, addr) in &addrs {
            endpoints.insert(part.name().into(), format!("http://{addr}").into());
        }
        let file = serde_json::json!({
            "endpoints": endpoints,
            "token": admin,
            "database": database,
            "pid": std::process::id(),
        });
        write_atomically(path, &serde_json::to_vec_pretty(&file)?)
            .with_context(|| format!("writing the endpoints file {}", path.display()))?;
    }
    crate::out!(
        "Procedo dev is ready in {} ms",
        started.elapsed().as_millis()
    );
    crate::out!();
    for (part, addr) in &addrs {
        crate::out!("  {:<10} http://{addr}   ({})", part.name(), part.grpc());
    }
    crate::out!("  database   {database}");
    crate::out!();
    crate::out!("Admin token (12h):");
    crate::out!("  export PROCEDO_TOKEN={admin}");
    // What the client commands would not find by themselves.
    for (part, addr) in &addrs {
        let client = part.client();
        let url = format!("http://{addr}");
        if url != client.default {
            crate::out!("  export {}={url}", client.env);
        }
    }
    crate::out!();
    if let Some((_, addr)) = addrs.first() {
        crate::out!("Try: grpcurl -plaintext {addr} list");
    }
    crate::out!("Stop with Ctrl-C.");

    let (trigger, stop) = shutdown::channel();
    let serving = futures::future::try_join_all(
        embedded
            .iter()
            .zip(services)
            .map(|(on, s)| on.spawn(s.serve(stop.clone().wait()))),
    );
    tokio::pin!(serving);
    let served = tokio::select! {
        served = &mut serving => served,
        () = server::shutdown_signal() => {
            trigger.fire();
            serving.await
        }
    };
    drop(embedded);
    served?.into_iter().collect()
}

/// A fresh folder for `--in-memory`: in /dev/shm (memory) where the
/// machine has it, else in the temporary folder.
fn in_memory_folder() -> anyhow::Result<tempfile::TempDir> {
    let shm = std::path::Path::new("/dev/shm");
    let builder = {
        let mut b = tempfile::Builder::new();
        b.prefix("procedo-dev-");
        b
    };
    let folder = if shm.is_dir() {
        builder.tempdir_in(shm)
    } else {
        builder.tempdir()
    };
    folder.map_err(|e| anyhow::anyhow!("making a folder for --in-memory: {e}"))
}

/// What `--reset` removes from the data folder: what the services keep
/// there, and nothing else.
fn reset(data_dir: &std::path::Path) -> anyhow::Result<()> {
    let mut kept: Vec<std::path::PathBuf> = Vec::new();
    for part in [
        Part::Intake,
        Part::Workflow,
        Part::Document,
        Part::Compliance,
    ] {
        for suffix in ["db", "db-wal", "db-shm", "db-journal", "db.migrating"] {
            kept.push(data_dir.join(format!("{}.{suffix}", part.name())));
        }
    }
    for name in ["audit-signing-key.pem", "document-signing-key.pem"] {
        kept.push(data_dir.join(name));
    }
    for path in kept {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => anyhow::bail!("--reset: removing {}: {e}", path.display()),
        }
    }
    let content = data_dir.join("document-content");
    match std::fs::remove_dir_all(&content) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => anyhow::bail!("--reset: removing {}: {e}", content.display()),
    }
}

/// Writes `bytes` to `path` so a reader never sees a half-written file.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}
