//! One way to start intake for a test: [`TestIntake::spawn`].

use procedo_intake::Intake;
use procedo_intake::config::IntakeArgs;
use procedo_platform::db::Database;
use procedo_platform::identity::Role;
use procedo_platform::service::Config;
use procedo_proto::common;
use procedo_proto::intake as pb;
use procedo_proto::intake::intake_service_client::IntakeServiceClient;
use procedo_testkit::{Backend, Bearer, TestDatabase, TestService, Tokens};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type IntakeClient = IntakeServiceClient<InterceptedService<Channel, Bearer>>;

/// A running intake service with its own database, started as the binary
/// starts it.
pub struct TestIntake {
    pub server: TestService,
    /// The service's own database handle, for tests that hold its locks.
    pub db: Database,
    pub tokens: Tokens,
    pub database: TestDatabase,
}

impl TestIntake {
    pub async fn spawn(backend: Backend) -> TestIntake {
        TestIntake::spawn_with(backend, |_| {}).await
    }

    /// With the test settings changed by `configure`.
    pub async fn spawn_with(
        backend: Backend,
        configure: impl FnOnce(&mut Config<IntakeArgs>),
    ) -> TestIntake {
        let database = TestDatabase::new(backend, "intake");
        let server = TestService::spawn::<Intake>(&database, configure).await;
        TestIntake {
            db: server.db.clone(),
            server,
            tokens: Tokens::default(),
            database,
        }
    }

    /// A client calling as a person holding `role`.
    pub fn client(&self, role: Role) -> IntakeClient {
        self.client_with(Some(self.tokens.token(role)))
    }

    /// A client sending `token` (or none).
    pub fn client_with(&self, token: Option<String>) -> IntakeClient {
        IntakeServiceClient::with_interceptor(self.server.channel.clone(), Bearer(token))
    }

    /// Adds a type with the given checklist (`(name, mandatory)`).
    pub async fn create_type(&self, code: &str, materials: &[(&str, bool)]) -> pb::ApplicationType {
        self.client(Role::Admin)
            .create_application_type(pb::CreateApplicationTypeRequest {
                request_id: String::new(),
                application_type: Some(application_type(code, materials)),
            })
            .await
            .expect("the type is created")
            .into_inner()
    }

    /// Submits an application of `type_code` as an intake clerk.
    pub async fn submit(&self, request: pb::SubmitApplicationRequest) -> pb::Application {
        self.client(Role::IntakeClerk)
            .submit_application(request)
            .await
            .expect("the application is submitted")
            .into_inner()
    }
}

pub fn application_type(code: &str, materials: &[(&str, bool)]) -> pb::ApplicationType {
    pb::ApplicationType {
        code: code.to_owned(),
        display_name: format!("{code} application"),
        in_scope: true,
        materials: materials
            .iter()
            .map(|(name, mandatory)| pb::MaterialRequirement {
                name: (*name).to_owned(),
                mandatory: *mandatory,
            })
            .collect(),
        processing_time_limit: Some(prost_types::Duration {
            seconds: 5 * 86_400,
            nanos: 0,
        }),
        process_key: "standard".to_owned(),
        ..Default::default()
    }
}

pub use procedo_testkit::calendar::{calendar_file, today};

/// A protobuf timestamp as milliseconds.
pub fn ms(t: Option<prost_types::Timestamp>) -> i64 {
    let t = t.expect("a time");
    t.seconds * 1000 + i64::from(t.nanos / 1_000_000)
}

pub fn material(name: &str) -> pb::Material {
    pb::Material {
        name: name.to_owned(),
        content_sha256: "a".repeat(64),
        document_ref: String::new(),
    }
}

/// A well-formed submission of `type_code` with `materials`.
pub fn submission(
    type_code: &str,
    applicant: &str,
    materials: &[&str],
) -> pb::SubmitApplicationRequest {
    pb::SubmitApplicationRequest {
        request_id: String::new(),
        type_code: type_code.to_owned(),
        applicant: Some(pb::Applicant {
            name: applicant.to_owned(),
            organisation: "Acme Trading Co.".to_owned(),
            phone: "+86 10 1234 5678".to_owned(),
            email: "applicant@example.com".to_owned(),
        }),
        matter: Some(pb::Matter {
            title: "Working capital loan".to_owned(),
            description: "Six months, for inventory.".to_owned(),
        }),
        amount: Some(common::Money {
            currency_code: "CNY".to_owned(),
            minor_units: 50_000_000,
        }),
        materials: materials.iter().map(|m| material(m)).collect(),
    }
}

/// A well-formed inquiry on `channel`.
pub fn inquiry(channel: pb::Channel) -> pb::CreateInquiryRequest {
    pb::CreateInquiryRequest {
        request_id: String::new(),
        channel: channel as i32,
        customer: Some(pb::Customer {
            name: "Li Wei".to_owned(),
            phone: "13800138000".to_owned(),
            email: String::new(),
        }),
        subject: "Opening hours".to_owned(),
        text: "When can I hand in the documents?".to_owned(),
    }
}

/// The field paths of an INVALID_ARGUMENT's `BadRequest` details.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt as _;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// The `PreconditionFailure` description of a FAILED_PRECONDITION.
pub fn precondition(status: &tonic::Status) -> String {
    use tonic_types::StatusExt as _;
    status
        .get_details_precondition_failure()
        .and_then(|p| p.violations.into_iter().next())
        .map(|v| v.description)
        .unwrap_or_default()
}
