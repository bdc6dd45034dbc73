//! One way to start the compliance service for a test, and to hand it
//! audit records as the other services' relays do.

use procedo_compliance::ComplianceService;
use procedo_compliance::config::ComplianceArgs;
use procedo_platform::identity::Role;
use procedo_platform::service::Config;
use procedo_proto::common::event_sink_service_client::EventSinkServiceClient;
use procedo_proto::common::{self, AuditRecord, Event};
use procedo_proto::compliance::assessment_service_client::AssessmentServiceClient;
use procedo_proto::compliance::audit_log_service_client::AuditLogServiceClient;
use procedo_proto::compliance::directory_service_client::DirectoryServiceClient;
use procedo_proto::compliance::filing_service_client::FilingServiceClient;
use procedo_proto::compliance::inspection_service_client::InspectionServiceClient;
use procedo_proto::compliance::policy_service_client::PolicyServiceClient;
use procedo_proto::compliance::rectification_service_client::RectificationServiceClient;
use procedo_proto::compliance::training_service_client::TrainingServiceClient;
use procedo_proto::events;
use procedo_testkit::{Backend, Bearer, TestDatabase, TestService, Tokens};
use prost::Message as _;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type AuditClient = AuditLogServiceClient<InterceptedService<Channel, Bearer>>;
pub type AssessmentClient = AssessmentServiceClient<InterceptedService<Channel, Bearer>>;
pub type InspectionClient = InspectionServiceClient<InterceptedService<Channel, Bearer>>;
pub type DirectoryClient = DirectoryServiceClient<InterceptedService<Channel, Bearer>>;
pub type FilingClient = FilingServiceClient<InterceptedService<Channel, Bearer>>;
pub type PolicyClient = PolicyServiceClient<InterceptedService<Channel, Bearer>>;
pub type TrainingClient = TrainingServiceClient<InterceptedService<Channel, Bearer>>;
pub type RectificationClient = RectificationServiceClient<InterceptedService<Channel, Bearer>>;

/// A running compliance service with its own database.
pub struct TestCompliance {
    pub server: TestService,
    pub tokens: Tokens,
    _database: TestDatabase,
}

impl TestCompliance {
    /// Checkpoints only on demand: the tests decide when.
    pub async fn spawn(backend: Backend) -> TestCompliance {
        TestCompliance::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(
        backend: Backend,
        configure: impl FnOnce(&mut Config<ComplianceArgs>),
    ) -> TestCompliance {
        let database = TestDatabase::new(backend, "compliance");
        let server = TestService::spawn::<ComplianceService>(&database, |c| {
            c.service.checkpoint_interval = std::time::Duration::from_secs(3600);
            c.service.origin = "procedo.test/audit".into();
            configure(c);
        })
        .await;
        TestCompliance {
            server,
            tokens: Tokens::default(),
            _database: database,
        }
    }

    pub fn client(&self, role: Role) -> AuditClient {
        AuditLogServiceClient::with_interceptor(
            self.server.channel.clone(),
            Bearer(Some(self.tokens.token(role))),
        )
    }

    pub fn auditor(&self) -> AuditClient {
        self.client(Role::Auditor)
    }

    pub fn inspections(&self, token: String) -> InspectionClient {
        InspectionServiceClient::with_interceptor(self.server.channel.clone(), Bearer(Some(token)))
    }

    pub fn assessment(&self, token: String) -> AssessmentClient {
        AssessmentServiceClient::with_interceptor(self.server.channel.clone(), Bearer(Some(token)))
    }

    pub fn directory(&self, token: String) -> DirectoryClient {
        DirectoryServiceClient::with_interceptor(self.server.channel.clone(), Bearer(Some(token)))
    }

    pub fn training(&self, token: String) -> TrainingClient {
        TrainingServiceClient::with_interceptor(self.server.channel.clone(), Bearer(Some(token)))
    }

    pub fn policies(&self, token: String) -> PolicyClient {
        PolicyServiceClient::with_interceptor(self.server.channel.clone(), Bearer(Some(token)))
    }

    pub fn filings(&self, token: String) -> FilingClient {
        FilingServiceClient::with_interceptor(self.server.channel.clone(), Bearer(Some(token)))
    }

    pub fn rectification(&self, token: String) -> RectificationClient {
        RectificationServiceClient::with_interceptor(
            self.server.channel.clone(),
            Bearer(Some(token)),
        )
    }

    /// The log's entries of `action`, once the relay has brought compliance's
    /// own records in (waits up to ten seconds for at least `at_least`).
    pub async fn own_entries(
        &self,
        action: &str,
        at_least: usize,
    ) -> Vec<procedo_proto::compliance::AuditEntry> {
        let mut auditor = self.auditor();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let entries = auditor
                .list_audit_entries(procedo_proto::compliance::ListAuditEntriesRequest {
                    action: action.into(),
                    source: "procedo.compliance".into(),
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .expect("listed")
                .into_inner()
                .entries;
            if entries.len() >= at_least || std::time::Instant::now() > deadline {
                return entries;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Delivers `event` as a peer's relay does; whether it was new.
    pub async fn deliver(&self, event: Event) -> bool {
        let mut sink = EventSinkServiceClient::with_interceptor(
            self.server.channel.clone(),
            Bearer(Some(self.tokens.token(Role::Service))),
        );
        !sink
            .deliver(common::DeliverRequest { event: Some(event) })
            .await
            .expect("delivered")
            .into_inner()
            .duplicate
    }
}

/// The audit event service `source` sends as its `sequence`th event.
pub fn audit_event(source: &str, sequence: i64, action: &str, resource: &str) -> Event {
    Event {
        id: format!("{source}-{sequence}"),
        source: source.into(),
        r#type: events::AUDIT.into(),
        subject: resource.into(),
        time: Some(procedo_platform::time::to_timestamp(
            1_764_000_000_000 + sequence * 1_000,
        )),
        actor: Some(common::Actor {
            subject: format!("person-{}", sequence % 3),
            name: "A Person".into(),
            department: "sales".into(),
            ..Default::default()
        }),
        data: Some(prost_types::Any {
            type_url: format!("type.googleapis.com/{}", events::AUDIT_RECORD),
            value: AuditRecord {
                action: action.into(),
                resource: resource.into(),
                detail: format!("step {sequence}"),
                trace_id: format!("{sequence:032x}"),
            }
            .encode_to_vec(),
        }),
        sequence,
        ..Default::default()
    }
}

/// An event `source` reports to compliance: `event_type` carrying
/// `message` (named `data_type`), at `time` (ms).
pub fn report(
    id: &str,
    source: &str,
    event_type: &str,
    data_type: &str,
    message: &impl prost::Message,
    time: i64,
) -> Event {
    Event {
        id: id.into(),
        source: source.into(),
        r#type: event_type.into(),
        subject: String::new(),
        time: Some(procedo_platform::time::to_timestamp(time)),
        actor: Some(common::Actor {
            subject: "clerk-1".into(),
            name: "Clerk One".into(),
            department: "sales".into(),
            ..Default::default()
        }),
        data: Some(prost_types::Any {
            type_url: format!("type.googleapis.com/{data_type}"),
            value: message.encode_to_vec(),
        }),
        sequence: 1,
        ..Default::default()
    }
}
