//! Cross-service scenarios: intake, workflow, document and compliance
//! running together, each on its own database, wired as in production
//! (events: outbox → relay → gRPC → inbox; workflow asks the document
//! service about plans and acceptance reports; every service's audit
//! records go to compliance's audit log).
//!
//! [`Cluster::start`] brings both up on `127.0.0.1`; [`Cluster::stop_workflow`]
//! and [`Cluster::start_workflow`] take workflow down and back up on the same
//! port and database, to show that nothing is lost or duplicated meanwhile.

pub mod postgres;
pub mod processes;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use procedo_compliance::ComplianceService;
use procedo_document::DocumentService;
use procedo_intake::Intake;
use procedo_platform::config::Peer;
use procedo_platform::db::Backend;
use procedo_platform::identity::Role;
use procedo_platform::server;
use procedo_proto::compliance::assessment_service_client::AssessmentServiceClient;
use procedo_proto::compliance::audit_log_service_client::AuditLogServiceClient;
use procedo_proto::compliance::inspection_service_client::InspectionServiceClient;
use procedo_proto::document::document_service_client::DocumentServiceClient;
use procedo_proto::intake::intake_service_client::IntakeServiceClient;
use procedo_proto::workflow::workflow_service_client::WorkflowServiceClient;
use procedo_testkit::calendar::{CalendarClient, calendars};
use procedo_testkit::{Bearer, TestDatabase, TestService, Tokens};
use procedo_workflow::Workflow;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type IntakeClient = IntakeServiceClient<InterceptedService<Channel, Bearer>>;
pub type WorkflowClient = WorkflowServiceClient<InterceptedService<Channel, Bearer>>;
pub type DocumentClient = DocumentServiceClient<InterceptedService<Channel, Bearer>>;
pub type AuditClient = AuditLogServiceClient<InterceptedService<Channel, Bearer>>;
pub type AssessmentClient = AssessmentServiceClient<InterceptedService<Channel, Bearer>>;
pub type InspectionClient = InspectionServiceClient<InterceptedService<Channel, Bearer>>;

/// Where every service sends its audit records and document facts.
fn to_compliance(addr: SocketAddr) -> [Peer; 2] {
    [
        peer(procedo_platform::outbox::AUDIT, addr),
        peer("compliance", addr),
    ]
}

fn peer(name: &str, addr: SocketAddr) -> Peer {
    Peer {
        name: name.to_owned(),
        url: format!("http://{addr}"),
    }
}

/// Intake and workflow, wired to each other.
#[allow(missing_debug_implementations)]
pub struct Cluster {
    pub tokens: Tokens,
    intake: TestService,
    workflow: Option<TestService>,
    document: Option<TestService>,
    compliance: Option<TestService>,
    intake_addr: SocketAddr,
    workflow_addr: SocketAddr,
    document_addr: SocketAddr,
    compliance_addr: SocketAddr,
    workflow_database: TestDatabase,
    document_database: TestDatabase,
    compliance_database: TestDatabase,
    _intake_database: TestDatabase,
}

impl Cluster {
    pub async fn start(backend: Backend) -> Cluster {
        let intake_listener = server::bind("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("port");
        let workflow_listener = server::bind("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("port");
        let document_listener = server::bind("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("port");
        let compliance_listener = server::bind("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("port");
        let intake_addr = intake_listener.local_addr().expect("addr");
        let workflow_addr = workflow_listener.local_addr().expect("addr");
        let document_addr = document_listener.local_addr().expect("addr");
        let compliance_addr = compliance_listener.local_addr().expect("addr");

        let intake_database = TestDatabase::new(backend, "intake");
        let intake = TestService::start_on::<Intake>(&intake_database, intake_listener, |c| {
            c.outbox.peers = vec![peer("workflow", workflow_addr)];
            c.outbox.peers.extend(to_compliance(compliance_addr));
            c.service.document_url = Some(format!("http://{document_addr}"));
            c.service.document_timeout = Duration::from_millis(500);
            c.service.overdue_sweep = Duration::from_millis(100);
        })
        .await;
        let mut cluster = Cluster {
            tokens: Tokens::default(),
            intake,
            workflow: None,
            document: None,
            compliance: None,
            intake_addr,
            workflow_addr,
            document_addr,
            compliance_addr,
            workflow_database: TestDatabase::new(backend, "workflow"),
            document_database: TestDatabase::new(backend, "document"),
            compliance_database: TestDatabase::new(backend, "compliance"),
            _intake_database: intake_database,
        };
        cluster.serve_compliance(compliance_listener).await;
        cluster.serve_document(document_listener).await;
        cluster.serve_workflow(workflow_listener).await;
        cluster
    }

    async fn serve_workflow(&mut self, listener: tokio::net::TcpListener) {
        let (intake_addr, document_addr) = (self.intake_addr, self.document_addr);
        let compliance_addr = self.compliance_addr;
        self.workflow = Some(
            TestService::start_on::<Workflow>(&self.workflow_database, listener, |c| {
                c.outbox.peers = vec![peer("intake", intake_addr), peer("document", document_addr)];
                c.outbox.peers.extend(to_compliance(compliance_addr));
                c.service.deadline_sweep = Duration::from_secs(60);
                c.service.document_url = Some(format!("http://{document_addr}"));
                c.service.document_timeout = Duration::from_millis(500);
            })
            .await,
        );
    }

    async fn serve_document(&mut self, listener: tokio::net::TcpListener) {
        let compliance_addr = self.compliance_addr;
        self.document = Some(
            TestService::start_on::<DocumentService>(&self.document_database, listener, |c| {
                c.outbox.peers.extend(to_compliance(compliance_addr));
            })
            .await,
        );
    }

    async fn serve_compliance(&mut self, listener: tokio::net::TcpListener) {
        let (intake, workflow, document) =
            (self.intake_addr, self.workflow_addr, self.document_addr);
        self.compliance = Some(
            TestService::start_on::<ComplianceService>(&self.compliance_database, listener, |c| {
                c.service.checkpoint_interval = Duration::from_secs(3600);
                // Inspections sample from the three others.
                c.service.intake_url = Some(format!("http://{intake}"));
                c.service.workflow_url = Some(format!("http://{workflow}"));
                c.service.document_url = Some(format!("http://{document}"));
            })
            .await,
        );
    }

    /// Stops the compliance service (its database stays).
    pub async fn stop_compliance(&mut self) {
        if let Some(mut server) = self.compliance.take() {
            server.stop().await;
        }
    }

    /// Starts the compliance service again on its port and database.
    pub async fn start_compliance(&mut self) {
        let listener = server::bind(self.compliance_addr)
            .await
            .expect("the same port again");
        self.serve_compliance(listener).await;
    }

    /// An audit log client; a fresh connection.
    pub async fn audit(&self, token: String) -> AuditClient {
        let channel = Channel::from_shared(format!("http://{}", self.compliance_addr))
            .expect("uri")
            .connect()
            .await
            .expect("compliance is up");
        AuditLogServiceClient::with_interceptor(channel, Bearer(Some(token)))
    }

    /// An assessment client; a fresh connection.
    pub async fn assessment(&self, token: String) -> AssessmentClient {
        let channel = Channel::from_shared(format!("http://{}", self.compliance_addr))
            .expect("uri")
            .connect()
            .await
            .expect("compliance is up");
        AssessmentServiceClient::with_interceptor(channel, Bearer(Some(token)))
    }

    /// An inspection client; a fresh connection.
    pub async fn inspections(&self, token: String) -> InspectionClient {
        let channel = Channel::from_shared(format!("http://{}", self.compliance_addr))
            .expect("uri")
            .connect()
            .await
            .expect("compliance is up");
        InspectionServiceClient::with_interceptor(channel, Bearer(Some(token)))
    }

    /// The services' databases, to count what they queued for the audit
    /// log: intake, workflow (while it runs) and document (while it runs).
    pub fn source_dbs(&self) -> Vec<(&'static str, &procedo_platform::db::Database)> {
        let mut dbs = vec![("procedo.intake", &self.intake.db)];
        if let Some(w) = &self.workflow {
            dbs.push(("procedo.workflow", &w.db));
        }
        if let Some(d) = &self.document {
            dbs.push(("procedo.document", &d.db));
        }
        dbs
    }

    /// Stops the document service (its database and content stay).
    pub async fn stop_document(&mut self) {
        if let Some(mut server) = self.document.take() {
            server.stop().await;
        }
    }

    /// A document client; a fresh connection.
    pub async fn document(&self, token: String) -> DocumentClient {
        let channel = Channel::from_shared(format!("http://{}", self.document_addr))
            .expect("uri")
            .connect()
            .await
            .expect("document is up");
        DocumentServiceClient::with_interceptor(channel, Bearer(Some(token)))
    }

    /// Stops the workflow service (its database stays).
    pub async fn stop_workflow(&mut self) {
        if let Some(mut server) = self.workflow.take() {
            server.stop().await;
        }
    }

    /// Starts the workflow service again on its port and database.
    pub async fn start_workflow(&mut self) {
        let listener = server::bind(self.workflow_addr)
            .await
            .expect("the same port again");
        self.serve_workflow(listener).await;
    }

    pub fn intake(&self, token: String) -> IntakeClient {
        IntakeServiceClient::with_interceptor(self.intake.channel.clone(), Bearer(Some(token)))
    }

    /// A workflow client; a fresh connection, so it works across restarts.
    pub async fn workflow(&self, token: String) -> WorkflowClient {
        let channel = Channel::from_shared(format!("http://{}", self.workflow_addr))
            .expect("uri")
            .connect()
            .await
            .expect("workflow is up");
        WorkflowServiceClient::with_interceptor(channel, Bearer(Some(token)))
    }

    /// Intake's `CalendarService`: its copy of the calendars.
    pub fn intake_calendars(&self, token: String) -> CalendarClient {
        calendars(&self.intake.channel, token)
    }

    /// Workflow's `CalendarService`, where calendars are changed.
    pub async fn workflow_calendars(&self, token: String) -> CalendarClient {
        let channel = Channel::from_shared(format!("http://{}", self.workflow_addr))
            .expect("uri")
            .connect()
            .await
            .expect("workflow is up");
        calendars(&channel, token)
    }

    /// Intake's database, to look at its outbox.
    pub fn intake_db(&self) -> &procedo_platform::db::Database {
        &self.intake.db
    }

    /// Workflow's database, while it runs.
    pub fn workflow_db(&self) -> Option<&procedo_platform::db::Database> {
        self.workflow.as_ref().map(|w| &w.db)
    }

    pub fn admin(&self) -> String {
        self.tokens.token(Role::Admin)
    }
}

/// Polls `check` every 25 ms for up to ten seconds.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..400 {
        if let Some(found) = check().await {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what} did not happen within ten seconds");
}
