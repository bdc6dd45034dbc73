//! One way to start the compliance service for a test, and to hand it
//! audit records as the other services' relays do.

use procedo_compliance::ComplianceService;
use procedo_compliance::config::ComplianceArgs;
use procedo_platform::identity::Role;
use procedo_platform::service::Config;
use procedo_proto::common::event_sink_service_client::EventSinkServiceClient;
use procedo_proto::common::{self, AuditRecord, Event};
use procedo_proto::compliance::audit_log_service_client::AuditLogServiceClient;
use procedo_proto::events;
use procedo_testkit::{Backend, Bearer, TestDatabase, TestService, Tokens};
use prost::Message as _;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type AuditClient = AuditLogServiceClient<InterceptedService<Channel, Bearer>>;

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
