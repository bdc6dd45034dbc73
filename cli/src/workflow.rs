//! `procedo workflow …`: definitions, the authorisation matrix, instances
//! and tasks from the command line.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use procedo_proto::common;
use procedo_proto::workflow as pb;
use procedo_proto::workflow::workflow_service_client::WorkflowServiceClient;
use tokio_stream::StreamExt as _;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::client::{Auth, Connection, WORKFLOW};
use crate::output::{self, Format, time};

pub(crate) type Client = WorkflowServiceClient<InterceptedService<Channel, Auth>>;

#[derive(Debug, Args)]
pub struct WorkflowCommand {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Validate and deploy a process definition from a YAML or JSON file
    /// (the ProcessDefinition message in proto3 JSON form).
    Deploy {
        /// The definition as a YAML or JSON file (see examples/purchase.yaml).
        file: PathBuf,
        /// Only validate; deploy nothing.
        #[arg(long)]
        validate_only: bool,
    },
    /// The deployed definitions (latest versions).
    Definitions,
    /// Draw a definition as Mermaid (default) or Graphviz DOT.
    Diagram {
        /// The process key.
        key: String,
        /// A version; the latest when unset.
        #[arg(long)]
        version: Option<i32>,
        /// mermaid or dot (Graphviz).
        #[arg(long, value_parser = ["mermaid", "dot"], default_value = "mermaid")]
        format: String,
    },
    /// Publish an authorisation matrix from a YAML or JSON file.
    PublishMatrix {
        /// The matrix as YAML or JSON (see examples/matrix.yaml).
        file: PathBuf,
    },
    /// Start an instance of a process.
    Start(Start),
    /// List instances, newest first.
    Instances {
        /// Only the instance of this business key (e.g. an application's name).
        #[arg(long, default_value = "")]
        business_key: String,
        /// Only those past a time limit.
        #[arg(long)]
        overdue: bool,
    },
    /// Show one instance.
    Instance {
        /// The instance (instances/{id}).
        name: String,
    },
    /// Stream an instance's history as it happens.
    Watch {
        /// The instance (instances/{id}).
        name: String,
    },
    /// The open tasks you may act on: your work queue.
    Tasks {
        /// Every open task you may see (your department's too), not only
        /// those you may act on.
        #[arg(long)]
        all: bool,
        /// Only those assigned to you.
        #[arg(long)]
        mine: bool,
        /// Only those past their due time.
        #[arg(long, conflicts_with = "due_within")]
        overdue: bool,
        /// Only those due within this long from now (e.g. 4h, 2d).
        #[arg(long, value_parser = humantime::parse_duration)]
        due_within: Option<std::time::Duration>,
        /// Only this instance's (instances/…).
        #[arg(long, default_value = "")]
        instance: String,
        /// Only this department's.
        #[arg(long, default_value = "")]
        department: String,
    },
    /// Take a task.
    Claim {
        /// The task (tasks/{id}).
        name: String,
    },
    /// Complete a task with a decision and your signed opinion.
    Complete(Complete),
    #[command(flatten)]
    More(crate::coordination::More),
}

#[derive(Debug, Args)]
struct Start {
    /// The process key.
    #[arg(long = "process", default_value = "standard")]
    process_key: String,
    /// The business the instance is for, e.g. applications/{id}; one instance
    /// each.
    #[arg(long)]
    business_key: String,
    /// The business type, as the matrix names it.
    #[arg(long = "type")]
    business_type: String,
    /// The instance's title.
    #[arg(long)]
    title: String,
    /// Amount in major units, up to two decimals (e.g. 500000.00).
    #[arg(long, value_parser = output::parse_amount)]
    amount: Option<i64>,
    /// The amount's currency (ISO 4217).
    #[arg(long, default_value = "CNY")]
    currency: String,
    #[command(flatten)]
    participants: ParticipantsArgs,
}

/// Who takes part in an instance: `workflow start` and `workflow
/// participants` take them alike.
#[derive(Debug, Args)]
pub(crate) struct ParticipantsArgs {
    /// A joint-review department; repeat.
    #[arg(long = "review")]
    review: Vec<String>,
    /// The lead department of execution.
    #[arg(long, default_value = "")]
    lead: String,
    /// A supporting department; repeat.
    #[arg(long = "support")]
    support: Vec<String>,
    /// An accepting department; repeat.
    #[arg(long = "acceptor")]
    acceptors: Vec<String>,
}

impl ParticipantsArgs {
    pub(crate) fn into_proto(self) -> pb::Participants {
        pb::Participants {
            review_departments: self.review,
            lead_department: self.lead,
            supporting_departments: self.support,
            acceptance_departments: self.acceptors,
        }
    }
}

#[derive(Debug, Args)]
struct Complete {
    /// The task (tasks/{id}).
    name: String,
    /// complete, approve, reject, send-back, pass or fail.
    #[arg(long, value_parser = parse_decision)]
    decision: pb::Decision,
    /// Your signed opinion.
    #[arg(long, default_value = "")]
    opinion: String,
    /// A document reference (the plan, the acceptance report).
    #[arg(long, default_value = "")]
    document: String,
    /// With send-back: the earlier step to return to.
    #[arg(long, default_value = "")]
    send_back_to: String,
    /// With send-back: a required change; repeat.
    #[arg(long = "change")]
    changes: Vec<String>,
    /// With fail: what must be rectified; repeat.
    #[arg(long = "requirement")]
    requirements: Vec<String>,
    /// With fail: the rectification deadline (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    deadline: Option<String>,
}

fn parse_decision(s: &str) -> Result<pb::Decision, String> {
    pb::Decision::from_str_name(&format!("DECISION_{}", s.replace('-', "_").to_uppercase()))
        .ok_or_else(|| format!("unknown decision {s:?}"))
}

fn decision_name(d: i32) -> String {
    pb::Decision::try_from(d)
        .ok()
        .filter(|d| *d != pb::Decision::Unspecified)
        .map(|d| d.as_str_name().trim_start_matches("DECISION_").to_owned())
        .unwrap_or_default()
}

pub(crate) fn print_instance(format: Format, i: &pb::Instance) -> anyhow::Result<()> {
    let status = pb::InstanceStatus::try_from(i.status)
        .map(|s| s.as_str_name())
        .unwrap_or("?");
    output::record(
        format,
        i,
        "procedo.workflow.v1.Instance",
        vec![
            ("name", i.name.clone()),
            ("definition", i.definition.clone()),
            ("business key", i.business_key.clone()),
            ("title", i.title.clone()),
            (
                "status",
                status.trim_start_matches("INSTANCE_STATUS_").to_owned(),
            ),
            ("current steps", i.current_steps.join(", ")),
            (
                "approval chain",
                i.approval_chain
                    .iter()
                    .map(|l| l.name.clone())
                    .collect::<Vec<_>>()
                    .join(" → "),
            ),
            ("plan", i.plan_document.clone()),
            ("acceptance report", i.acceptance_report.clone()),
            ("etag", i.etag.clone()),
        ],
    )
}

pub async fn run(command: WorkflowCommand) -> anyhow::Result<()> {
    let connection = command.connection;
    let format = connection.output;
    let mut client: Client = WorkflowServiceClient::with_interceptor(
        connection.channel(WORKFLOW).await?,
        connection.auth(),
    );
    match command.action {
        Action::Deploy {
            file,
            validate_only,
        } => {
            let definition: pb::ProcessDefinition =
                output::read_message(&file, "procedo.workflow.v1.ProcessDefinition")?;
            if validate_only {
                let report = client
                    .validate_process_definition(pb::ValidateProcessDefinitionRequest {
                        definition: Some(definition),
                    })
                    .await?
                    .into_inner();
                for p in &report.problems {
                    crate::out!("{}: {}", p.field, p.description);
                }
                anyhow::ensure!(report.valid, "{} problem(s)", report.problems.len());
                crate::out!("valid");
            } else {
                let deployed = client
                    .deploy_process_definition(pb::DeployProcessDefinitionRequest {
                        request_id: String::new(),
                        definition: Some(definition),
                    })
                    .await?
                    .into_inner();
                output::record(
                    format,
                    &deployed,
                    "procedo.workflow.v1.ProcessDefinition",
                    vec![
                        ("name", deployed.name.clone()),
                        ("steps", deployed.steps.len().to_string()),
                    ],
                )?;
            }
        }
        Action::Definitions => {
            let request = pb::ListProcessDefinitionsRequest {
                ..Default::default()
            };
            let definitions =
                crate::list_all!(client, list_process_definitions, request, definitions).await?;
            let list = pb::ListProcessDefinitionsResponse {
                definitions,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.workflow.v1.ListProcessDefinitionsResponse",
                &["KEY", "VERSION", "NAME", "STEPS", "DEPLOYED"],
                || {
                    list.definitions
                        .iter()
                        .map(|d| {
                            vec![
                                d.key.clone(),
                                d.version.to_string(),
                                d.display_name.clone(),
                                d.steps.len().to_string(),
                                time(d.create_time.as_ref()),
                            ]
                        })
                        .collect::<Vec<_>>()
                },
            )?;
        }
        Action::Diagram {
            key,
            version,
            format: kind,
        } => {
            let name = match version {
                Some(v) => format!("processDefinitions/{key}/versions/{v}"),
                None => format!("processDefinitions/{key}"),
            };
            let diagram = client
                .render_process_diagram(pb::RenderProcessDiagramRequest {
                    name,
                    format: if kind == "dot" {
                        pb::DiagramFormat::Dot
                    } else {
                        pb::DiagramFormat::Mermaid
                    } as i32,
                })
                .await?
                .into_inner()
                .diagram;
            crate::out!("{}", diagram.trim_end_matches('\n'));
        }
        Action::PublishMatrix { file } => {
            let matrix: pb::AuthorizationMatrix =
                output::read_message(&file, "procedo.workflow.v1.AuthorizationMatrix")?;
            let published = client
                .publish_authorization_matrix(pb::PublishAuthorizationMatrixRequest {
                    request_id: String::new(),
                    matrix: Some(matrix),
                })
                .await?
                .into_inner();
            output::record(
                format,
                &published,
                "procedo.workflow.v1.AuthorizationMatrix",
                vec![
                    ("name", published.name.clone()),
                    ("effective", time(published.effective_time.as_ref())),
                ],
            )?;
        }
        Action::Start(s) => {
            let instance = client
                .start_instance(pb::StartInstanceRequest {
                    request_id: String::new(),
                    process_key: s.process_key,
                    business_key: s.business_key,
                    business_type: s.business_type,
                    amount: s.amount.map(|minor_units| common::Money {
                        currency_code: s.currency.clone(),
                        minor_units,
                    }),
                    title: s.title,
                    initiator_department: String::new(),
                    form: None,
                    participants: Some(s.participants.into_proto()),
                })
                .await?
                .into_inner();
            print_instance(format, &instance)?;
        }
        Action::Instances {
            business_key,
            overdue,
        } => {
            let request = pb::ListInstancesRequest {
                business_key,
                overdue_only: overdue,
                ..Default::default()
            };
            let instances = crate::list_all!(client, list_instances, request, instances).await?;
            let list = pb::ListInstancesResponse {
                instances,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.workflow.v1.ListInstancesResponse",
                &["NAME", "STATUS", "BUSINESS KEY", "TITLE", "CURRENT STEPS"],
                || {
                    list.instances
                        .iter()
                        .map(|i| {
                            let status = pb::InstanceStatus::try_from(i.status)
                                .map(|s| s.as_str_name())
                                .unwrap_or("?");
                            vec![
                                i.name.clone(),
                                status.trim_start_matches("INSTANCE_STATUS_").to_owned(),
                                i.business_key.clone(),
                                i.title.clone(),
                                i.current_steps.join(", "),
                            ]
                        })
                        .collect::<Vec<_>>()
                },
            )?;
        }
        Action::Instance { name } => {
            let instance = client
                .get_instance(pb::GetInstanceRequest { name })
                .await?
                .into_inner();
            print_instance(format, &instance)?;
        }
        Action::Watch { name } => {
            let mut stream = client
                .watch_instance(pb::WatchInstanceRequest {
                    name,
                    after_sequence: 0,
                })
                .await?
                .into_inner();
            if format == Format::Table {
                crate::out!(
                    "{:>4}  {:<20}  {:<24} {:<14} {:<10} {}  {}",
                    "SEQ",
                    "TIME",
                    "ACTION",
                    "STEP",
                    "DECISION",
                    "BY",
                    "DETAIL"
                );
            }
            while let Some(entry) = stream.next().await {
                let e = entry?;
                match format {
                    Format::Json => {
                        crate::out!("{}", output::json(&e, "procedo.workflow.v1.HistoryEntry")?)
                    }
                    Format::Table => crate::out!(
                        "{:>4}  {}  {:<24} {:<14} {:<10} {}  {}",
                        e.sequence,
                        time(e.time.as_ref()),
                        e.action,
                        e.step,
                        decision_name(e.decision),
                        e.actor.as_ref().map(|a| a.subject.as_str()).unwrap_or(""),
                        if e.opinion.is_empty() {
                            &e.detail
                        } else {
                            &e.opinion
                        }
                    ),
                }
            }
        }
        Action::Tasks {
            all,
            mine,
            overdue,
            due_within,
            instance,
            department,
        } => {
            let request = pb::ListTasksRequest {
                actionable: !all,
                assigned_to_me: mine,
                overdue_only: overdue,
                due_within: due_within.map(crate::intake::duration_to_proto),
                instance,
                department,
                status: pb::TaskStatus::Open as i32,
                ..Default::default()
            };
            let tasks = crate::list_all!(client, list_tasks, request, tasks).await?;
            let list = pb::ListTasksResponse {
                tasks,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.workflow.v1.ListTasksResponse",
                &[
                    "NAME",
                    "STEP",
                    "TITLE",
                    "ROLE",
                    "DEPARTMENT",
                    "ASSIGNEE",
                    "DUE",
                    "OVERDUE",
                ],
                || {
                    list.tasks
                        .iter()
                        .map(|t| {
                            vec![
                                t.name.clone(),
                                t.step.clone(),
                                t.title.clone(),
                                t.role.clone(),
                                t.department.clone(),
                                t.assignee.clone(),
                                time(t.due_time.as_ref()),
                                if t.overdue {
                                    "yes".into()
                                } else {
                                    String::new()
                                },
                            ]
                        })
                        .collect::<Vec<_>>()
                },
            )?;
        }
        Action::More(more) => crate::coordination::run(&mut client, format, more).await?,
        Action::Claim { name } => {
            let task = client
                .claim_task(pb::ClaimTaskRequest {
                    request_id: String::new(),
                    name,
                })
                .await?
                .into_inner();
            output::record(
                format,
                &task,
                "procedo.workflow.v1.Task",
                vec![
                    ("name", task.name.clone()),
                    ("assignee", task.assignee.clone()),
                ],
            )?;
        }
        Action::Complete(c) => {
            let deadline = c
                .deadline
                .as_deref()
                .map(|d| crate::intake::parse_time(d).map_err(|e| anyhow::anyhow!(e)))
                .transpose()?;
            let task = client
                .complete_task(pb::CompleteTaskRequest {
                    name: c.name,
                    decision: c.decision as i32,
                    opinion: c.opinion,
                    document: c.document,
                    send_back_to_step: c.send_back_to,
                    required_changes: c.changes,
                    rectification_requirements: c.requirements,
                    rectification_deadline: deadline,
                    ..Default::default()
                })
                .await?
                .into_inner();
            output::record(
                format,
                &task,
                "procedo.workflow.v1.Task",
                vec![
                    ("name", task.name.clone()),
                    ("step", task.step.clone()),
                    ("decision", decision_name(task.decision)),
                    (
                        "signed by",
                        task.signature
                            .as_ref()
                            .map(|s| s.signer.clone())
                            .unwrap_or_default(),
                    ),
                ],
            )?;
        }
    }
    Ok(())
}
