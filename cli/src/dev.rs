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
use procedo_platform::service::{self, Config};
use procedo_platform::{server, shutdown, telemetry};
use procedo_workflow::Workflow;
use procedo_workflow::config::WorkflowArgs;

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

    /// Port of the document service.
    #[arg(long, env = "PROCEDO_DEV_DOCUMENT_PORT", default_value_t = 7103)]
    pub document_port: u16,

    /// Port of the compliance service.
    #[arg(long, env = "PROCEDO_DEV_COMPLIANCE_PORT", default_value_t = 7104)]
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
            server: ServerArgs {
                listen: SocketAddr::new(self.host, port),
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

pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let _telemetry = telemetry::init("procedo-dev", &args.telemetry)?;
    anyhow::ensure!(
        args.jwt_secret.is_some() || args.host.is_loopback(),
        "PROCEDO_JWT_SECRET must be set when procedo dev listens on a non-loopback address"
    );
    let secret = args.jwt_secret.as_deref().unwrap_or(DEV_JWT_SECRET);
    let signer = DevSigner::new(secret.as_bytes());

    let services = [
        ("intake", args.intake_port),
        ("workflow", args.workflow_port),
        ("document", args.document_port),
        ("compliance", args.compliance_port),
    ];
    let mut listeners = Vec::with_capacity(services.len());
    for (_, port) in services {
        listeners.push(server::bind(SocketAddr::new(args.host, port)).await?);
    }
    let addrs = listeners
        .iter()
        .map(|l| l.local_addr())
        .collect::<Result<Vec<_>, _>>()?;
    // Every service sends its events to every other one, by name, and
    // its audit records to compliance.
    let peers = |me: &str| -> Vec<Peer> {
        let mut peers: Vec<Peer> = services
            .iter()
            .zip(&addrs)
            .filter(|((name, _), _)| *name != me)
            .map(|((name, _), addr)| Peer {
                name: (*name).to_owned(),
                url: format!("http://{addr}"),
            })
            .collect();
        if me != "compliance" {
            peers.push(Peer {
                name: procedo_platform::outbox::AUDIT.to_owned(),
                url: format!("http://{}", addrs[3]),
            });
        }
        peers
    };
    let mut listeners = listeners.into_iter();
    let (
        Some(intake_listener),
        Some(workflow_listener),
        Some(document_listener),
        Some(compliance_listener),
    ) = (
        listeners.next(),
        listeners.next(),
        listeners.next(),
        listeners.next(),
    )
    else {
        anyhow::bail!("a listener per service");
    };
    // Workflow checks plan and acceptance-report references with the
    // document service running beside it.
    let mut workflow_args = args.workflow.clone();
    if workflow_args.document_url.is_none() {
        workflow_args.document_url = Some(format!("http://{}", addrs[2]));
    }
    // Intake checks materials given as document references with it too.
    let mut intake_args = args.intake.clone();
    if intake_args.document_url.is_none() {
        intake_args.document_url = Some(format!("http://{}", addrs[2]));
    }
    // Compliance's inspections sample from the three others.
    let mut compliance_args = args.compliance.clone();
    for (url, addr) in [
        (&mut compliance_args.intake_url, addrs[0]),
        (&mut compliance_args.workflow_url, addrs[1]),
        (&mut compliance_args.document_url, addrs[2]),
    ] {
        if url.is_none() {
            *url = Some(format!("http://{addr}"));
        }
    }
    let (intake, workflow, document, compliance) = tokio::try_join!(
        service::start::<Intake>(
            args.config(args.intake_port, peers("intake"), intake_args),
            intake_listener,
        ),
        service::start::<Workflow>(
            args.config(args.workflow_port, peers("workflow"), workflow_args),
            workflow_listener,
        ),
        service::start::<DocumentService>(
            args.config(args.document_port, peers("document"), args.document.clone()),
            document_listener,
        ),
        service::start::<ComplianceService>(
            args.config(args.compliance_port, peers("compliance"), compliance_args),
            compliance_listener,
        ),
    )?;
    let (intake_addr, workflow_addr, document_addr, compliance_addr) = (
        intake.local_addr()?,
        workflow.local_addr()?,
        document.local_addr()?,
        compliance.local_addr()?,
    );

    let admin = signer.token("dev-admin", "ops", &[Role::Admin], 12 * 3600);
    println!(
        "Procedo dev is ready in {} ms",
        started.elapsed().as_millis()
    );
    println!();
    println!("  intake     http://{intake_addr}   (procedo.intake.v1.IntakeService)");
    println!("  workflow   http://{workflow_addr}   (procedo.workflow.v1.WorkflowService)");
    println!("  document   http://{document_addr}   (procedo.document.v1.DocumentService)");
    println!(
        "  compliance http://{compliance_addr}   (procedo.compliance.v1.AuditLogService, InspectionService, RectificationService, FilingService)"
    );
    println!("  data       {}", args.database.data_dir.display());
    println!();
    println!("Admin token (12h):");
    println!("  export PROCEDO_TOKEN={admin}");
    println!();
    println!("Try: grpcurl -plaintext {intake_addr} list");
    println!("Stop with Ctrl-C.");

    let (trigger, stop) = shutdown::channel();
    let serving = async {
        tokio::try_join!(
            intake.serve(stop.clone().wait()),
            workflow.serve(stop.clone().wait()),
            document.serve(stop.clone().wait()),
            compliance.serve(stop.wait())
        )
    };
    tokio::pin!(serving);
    tokio::select! {
        served = &mut serving => { served?; }
        () = server::shutdown_signal() => {
            trigger.fire();
            serving.await?;
        }
    }
    Ok(())
}
