//! One way to start workflow for a test: [`TestWorkflow::spawn`].

use std::time::Duration;

use procedo_platform::db::Database;
use procedo_platform::identity::Role;
use procedo_platform::service::Config;
use procedo_proto::common;
use procedo_proto::workflow as pb;
use procedo_proto::workflow::workflow_service_client::WorkflowServiceClient;
use procedo_testkit::{Backend, Bearer, TestDatabase, TestService, Tokens};
use procedo_workflow::Workflow;
use procedo_workflow::config::WorkflowArgs;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type WorkflowClient = WorkflowServiceClient<InterceptedService<Channel, Bearer>>;

/// The test settings: a fast deadline sweep.
fn quick_sweep(config: &mut Config<WorkflowArgs>) {
    config.service.deadline_sweep = Duration::from_millis(50);
}

/// A running workflow service with its own database, started as the binary
/// starts it.
pub struct TestWorkflow {
    pub server: TestService,
    pub db: Database,
    pub tokens: Tokens,
    database: TestDatabase,
}

impl TestWorkflow {
    pub async fn spawn(backend: Backend) -> TestWorkflow {
        TestWorkflow::spawn_with(backend, |_| {}).await
    }

    /// With the test settings changed by `configure`.
    pub async fn spawn_with(
        backend: Backend,
        configure: impl FnOnce(&mut Config<WorkflowArgs>),
    ) -> TestWorkflow {
        let database = TestDatabase::new(backend, "workflow");
        let server = TestService::spawn::<Workflow>(&database, |c| {
            quick_sweep(c);
            configure(c);
        })
        .await;
        TestWorkflow {
            db: server.db.clone(),
            server,
            tokens: Tokens::default(),
            database,
        }
    }

    /// Another replica of the service on the same database.
    pub async fn replica(&self) -> TestService {
        TestService::spawn::<Workflow>(&self.database, quick_sweep).await
    }

    /// A client calling as a person of department "ops" holding `role`.
    pub fn client(&self, role: Role) -> WorkflowClient {
        self.with_token(self.tokens.token(role))
    }

    /// A client calling as a named person.
    pub fn person(
        &self,
        subject: &str,
        department: &str,
        roles: &[Role],
        title: &str,
        level: i32,
    ) -> WorkflowClient {
        self.with_token(self.tokens.person(subject, department, roles, title, level))
    }

    pub fn with_token(&self, token: String) -> WorkflowClient {
        WorkflowServiceClient::with_interceptor(self.server.channel.clone(), Bearer(Some(token)))
    }

    /// Publishes levels 1-3 and, for "project", level 1 below 1,000,000.00
    /// and levels 1 and 2 from there up; "*" needs level 1.
    pub async fn publish_matrix(&self) -> pb::AuthorizationMatrix {
        self.client(Role::Admin)
            .publish_authorization_matrix(pb::PublishAuthorizationMatrixRequest {
                request_id: String::new(),
                matrix: Some(matrix(None)),
            })
            .await
            .expect("published")
            .into_inner()
    }

    /// The open tasks of `instance` at `step`.
    pub async fn open_tasks(&self, instance: &str, step: &str) -> Vec<pb::Task> {
        self.client(Role::Admin)
            .list_tasks(pb::ListTasksRequest {
                instance: instance.to_owned(),
                status: pb::TaskStatus::Open as i32,
                page_size: 100,
                ..Default::default()
            })
            .await
            .expect("tasks")
            .into_inner()
            .tasks
            .into_iter()
            .filter(|t| t.step == step)
            .collect()
    }

    /// The one open task of `instance` at `step` (for `department`, if
    /// given).
    pub async fn task(&self, instance: &str, step: &str, department: Option<&str>) -> pb::Task {
        let tasks = self.open_tasks(instance, step).await;
        tasks
            .iter()
            .find(|t| department.is_none_or(|d| t.department == d))
            .cloned()
            .unwrap_or_else(|| panic!("no open {step} task ({department:?}) in {tasks:?}"))
    }

    pub async fn instance(&self, name: &str) -> pb::Instance {
        self.client(Role::Admin)
            .get_instance(pb::GetInstanceRequest {
                name: name.to_owned(),
            })
            .await
            .expect("instance")
            .into_inner()
    }
}

pub fn matrix(effective: Option<prost_types::Timestamp>) -> pb::AuthorizationMatrix {
    pb::AuthorizationMatrix {
        effective_time: effective,
        currency_code: "CNY".into(),
        levels: vec![
            pb::ApprovalLevel {
                level: 1,
                name: "Department head".into(),
            },
            pb::ApprovalLevel {
                level: 2,
                name: "Vice-president".into(),
            },
            pb::ApprovalLevel {
                level: 3,
                name: "General manager".into(),
            },
        ],
        rules: vec![
            pb::MatrixRule {
                business_type: "project".into(),
                min_minor_units: 0,
                max_minor_units: 100_000_000,
                levels: vec![1],
            },
            pb::MatrixRule {
                business_type: "project".into(),
                min_minor_units: 100_000_000,
                max_minor_units: 0,
                levels: vec![1, 2],
            },
            pb::MatrixRule {
                business_type: "*".into(),
                min_minor_units: 0,
                max_minor_units: 0,
                levels: vec![1],
            },
        ],
        ..Default::default()
    }
}

pub fn cny(minor_units: i64) -> common::Money {
    common::Money {
        currency_code: "CNY".into(),
        minor_units,
    }
}

/// Completes `task` with `decision` and an opinion.
pub fn decide(task: &pb::Task, decision: pb::Decision, opinion: &str) -> pb::CompleteTaskRequest {
    pb::CompleteTaskRequest {
        name: task.name.clone(),
        decision: decision as i32,
        opinion: opinion.to_owned(),
        ..Default::default()
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

/// A small definition: request (task) → review → done; reject sends back.
pub fn small_definition(key: &str, time_limit: prost_types::Duration) -> pb::ProcessDefinition {
    let step = |id: &str, kind: pb::StepKind, role: &str, content: &str| pb::Step {
        id: id.into(),
        name: format!("Step {id}"),
        kind: kind as i32,
        owner: Some(pb::Owner {
            role: role.into(),
            scope: pb::DepartmentScope::Initiator as i32,
            department: String::new(),
        }),
        content: content.into(),
        standard: vec!["done properly".into()],
        time_limit: Some(time_limit),
        departments: vec![],
        requires_document: false,
        limit: None,
    };
    let edge =
        |from: &str, decision: pb::Decision, to: &str, kind: pb::TransitionKind| pb::Transition {
            from_step: from.into(),
            decision: decision as i32,
            to_step: to.into(),
            kind: kind as i32,
        };
    pb::ProcessDefinition {
        key: key.into(),
        display_name: format!("{key} process"),
        start_step: "request".into(),
        steps: vec![
            step(
                "request",
                pb::StepKind::Task,
                "executor",
                "write the request",
            ),
            step(
                "review",
                pb::StepKind::Review,
                "department_head",
                "review the request",
            ),
        ],
        transitions: vec![
            edge(
                "request",
                pb::Decision::Complete,
                "review",
                pb::TransitionKind::Forward,
            ),
            edge(
                "review",
                pb::Decision::Approve,
                "",
                pb::TransitionKind::Forward,
            ),
            edge(
                "review",
                pb::Decision::Reject,
                "request",
                pb::TransitionKind::SendBack,
            ),
        ],
        ..Default::default()
    }
}

pub fn hours(h: i64) -> prost_types::Duration {
    prost_types::Duration {
        seconds: h * 3600,
        nanos: 0,
    }
}
