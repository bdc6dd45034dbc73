//! The workflow commands beyond starting and completing work: a definition
//! and the matrix as deployed, the approval chain an amount needs, an
//! instance cancelled, its participants changed, its cross-department
//! coordination items and supervision records, a task shown, reassigned or
//! delegated, and the meetings of §3.2.

use clap::{Args, Subcommand};
use procedo_proto::common;
use procedo_proto::workflow as pb;

use crate::output::{self, Format, named, request_id, time};
use crate::workflow::{Client, ParticipantsArgs, print_instance};

#[derive(Debug, Subcommand)]
pub enum More {
    /// Show a deployed definition (processDefinitions/{key}, or
    /// …/versions/{n}); `-o json` prints all of it.
    Definition {
        /// A process key, or its name.
        name: String,
    },
    /// Show the authorisation matrix in force (or a version of it).
    Matrix {
        /// The version; the one in force now when unset.
        #[arg(long)]
        version: Option<i32>,
    },
    /// The approval chain the matrix in force gives a business type and
    /// amount.
    Approvers {
        /// The business type, as the matrix names it.
        #[arg(long = "type")]
        business_type: String,
        /// Amount in major units, up to two decimals (e.g. 500000.00).
        #[arg(long, value_parser = output::parse_amount)]
        amount: i64,
        /// The amount's currency (ISO 4217).
        #[arg(long, default_value = "CNY")]
        currency: String,
    },
    /// Cancel a running instance, with the reason.
    Cancel {
        /// The instance (instances/{id}).
        name: String,
        /// Why it is cancelled (kept in its history).
        #[arg(long)]
        reason: String,
        /// The instance's etag: refuse if it changed meanwhile.
        #[arg(long, default_value = "")]
        etag: String,
    },
    /// Change who takes part: the joint-review, lead, supporting and
    /// acceptance departments (each list replaces the one before).
    Participants {
        /// The instance (instances/{id}).
        name: String,
        #[command(flatten)]
        participants: ParticipantsArgs,
    },
    /// Cross-department coordination items of an instance.
    #[command(subcommand)]
    Coordination(Coordination),
    /// Record supervision of an instance's execution.
    Supervise {
        /// The instance (instances/{id}).
        name: String,
        /// What the supervisor found.
        #[arg(long)]
        findings: String,
    },
    /// Show one task.
    Task {
        /// The task (tasks/{id}).
        name: String,
    },
    /// Give a task to someone else (department head or admin).
    Reassign {
        /// The task (tasks/{id}).
        name: String,
        /// The new assignee's token subject.
        #[arg(long = "to")]
        assignee: String,
        /// Why (kept in the history).
        #[arg(long)]
        reason: String,
    },
    /// Hand your task to a delegate, who acts for you.
    Delegate {
        /// The task (tasks/{id}).
        name: String,
        /// The delegate's token subject.
        #[arg(long = "to")]
        delegate: String,
        /// Why (kept in the history).
        #[arg(long)]
        reason: String,
    },
    /// Coordination meetings: recorded with their problems and action
    /// items (each becomes a task).
    #[command(subcommand)]
    Meetings(Meetings),
}

#[derive(Debug, Subcommand)]
pub enum Coordination {
    /// Raise a problem another department must act on.
    Add {
        /// The instance (instances/{id}).
        name: String,
        /// The problem.
        #[arg(long)]
        problem: String,
        /// The department that must act.
        #[arg(long)]
        department: String,
    },
    /// Record how an item was resolved.
    Resolve {
        /// The instance (instances/{id}).
        name: String,
        /// The item's id, as the instance lists it.
        item: String,
        /// How it was resolved.
        #[arg(long)]
        resolution: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum Meetings {
    /// Record a meeting.
    Record(RecordMeeting),
    /// Show one meeting.
    Get {
        /// The meeting (meetings/{id}).
        name: String,
    },
    /// The meetings, newest first.
    List {
        /// Only this department's.
        #[arg(long, default_value = "")]
        department: String,
    },
}

#[derive(Debug, Args)]
pub struct RecordMeeting {
    /// The department that held it.
    #[arg(long)]
    department: String,
    /// Its title.
    #[arg(long)]
    title: String,
    /// When it was held (RFC 3339, or a date).
    #[arg(long, value_parser = crate::intake::parse_time)]
    held: prost_types::Timestamp,
    /// Someone who attended; repeat.
    #[arg(long = "attendee")]
    attendees: Vec<String>,
    /// Progress reported.
    #[arg(long, default_value = "")]
    progress: String,
    /// A problem raised; repeat.
    #[arg(long = "problem")]
    problems: Vec<String>,
    /// An action item as "description=owner@due" (owner: a token subject;
    /// due: RFC 3339 or a date); each becomes a task; repeat.
    #[arg(long = "action", value_parser = parse_action)]
    actions: Vec<pb::ActionItem>,
}

fn parse_action(s: &str) -> Result<pb::ActionItem, String> {
    let shape = || format!("{s:?} is not description=owner@due");
    let (description, rest) = s.rsplit_once('=').ok_or_else(shape)?;
    let (owner, due) = rest.split_once('@').ok_or_else(shape)?;
    Ok(pb::ActionItem {
        description: description.trim().to_owned(),
        owner: owner.trim().to_owned(),
        due_time: Some(crate::intake::parse_time(due.trim())?),
        task: String::new(),
    })
}

pub async fn run(client: &mut Client, format: Format, more: More) -> anyhow::Result<()> {
    match more {
        More::Definition { name } => {
            let d = client
                .get_process_definition(pb::GetProcessDefinitionRequest {
                    name: named("processDefinitions", &name),
                })
                .await?
                .into_inner();
            output::record(
                format,
                &d,
                "procedo.workflow.v1.ProcessDefinition",
                vec![
                    ("name", d.name.clone()),
                    ("title", d.display_name.clone()),
                    ("version", d.version.to_string()),
                    ("start", d.start_step.clone()),
                    (
                        "steps",
                        d.steps
                            .iter()
                            .map(|s| s.id.clone())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                ],
            )
        }
        More::Matrix { version } => {
            let m = client
                .get_authorization_matrix(pb::GetAuthorizationMatrixRequest {
                    version: version.unwrap_or(0),
                    at_time: None,
                })
                .await?
                .into_inner();
            output::record(
                format,
                &m,
                "procedo.workflow.v1.AuthorizationMatrix",
                vec![
                    ("name", m.name.clone()),
                    ("version", m.version.to_string()),
                    ("in force from", time(m.effective_time.as_ref())),
                    ("currency", m.currency_code.clone()),
                    (
                        "levels",
                        m.levels
                            .iter()
                            .map(|l| format!("{} {}", l.level, l.name))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    ("rules", m.rules.len().to_string()),
                ],
            )
        }
        More::Approvers {
            business_type,
            amount,
            currency,
        } => {
            let chain = client
                .resolve_approval_chain(pb::ResolveApprovalChainRequest {
                    business_type,
                    amount: Some(common::Money {
                        currency_code: currency,
                        minor_units: amount,
                    }),
                    at_time: None,
                })
                .await?
                .into_inner();
            output::listing(
                format,
                &chain,
                "procedo.workflow.v1.ResolveApprovalChainResponse",
                &["LEVEL", "NAME"],
                || {
                    chain
                        .levels
                        .iter()
                        .map(|l| vec![l.level.to_string(), l.name.clone()])
                        .collect()
                },
            )
        }
        More::Cancel { name, reason, etag } => {
            let i = client
                .cancel_instance(pb::CancelInstanceRequest {
                    request_id: request_id(),
                    name: named("instances", &name),
                    etag,
                    reason,
                })
                .await?
                .into_inner();
            print_instance(format, &i)
        }
        More::Participants { name, participants } => {
            let i = client
                .update_participants(pb::UpdateParticipantsRequest {
                    request_id: request_id(),
                    name: named("instances", &name),
                    participants: Some(participants.into_proto()),
                })
                .await?
                .into_inner();
            print_instance(format, &i)
        }
        More::Coordination(Coordination::Add {
            name,
            problem,
            department,
        }) => {
            let i = client
                .add_coordination_item(pb::AddCoordinationItemRequest {
                    request_id: request_id(),
                    name: named("instances", &name),
                    problem,
                    responsible_department: department,
                })
                .await?
                .into_inner();
            print_coordination(format, &i)
        }
        More::Coordination(Coordination::Resolve {
            name,
            item,
            resolution,
        }) => {
            let i = client
                .resolve_coordination_item(pb::ResolveCoordinationItemRequest {
                    request_id: request_id(),
                    name: named("instances", &name),
                    item_id: item,
                    resolution,
                })
                .await?
                .into_inner();
            print_coordination(format, &i)
        }
        More::Supervise { name, findings } => {
            let i = client
                .add_supervision_record(pb::AddSupervisionRecordRequest {
                    request_id: request_id(),
                    name: named("instances", &name),
                    findings,
                })
                .await?
                .into_inner();
            print_instance(format, &i)
        }
        More::Task { name } => {
            let t = client
                .get_task(pb::GetTaskRequest {
                    name: named("tasks", &name),
                })
                .await?
                .into_inner();
            print_task(format, &t)
        }
        More::Reassign {
            name,
            assignee,
            reason,
        } => {
            let t = client
                .reassign_task(pb::ReassignTaskRequest {
                    request_id: request_id(),
                    name: named("tasks", &name),
                    assignee,
                    reason,
                })
                .await?
                .into_inner();
            print_task(format, &t)
        }
        More::Delegate {
            name,
            delegate,
            reason,
        } => {
            let t = client
                .delegate_task(pb::DelegateTaskRequest {
                    request_id: request_id(),
                    name: named("tasks", &name),
                    delegate,
                    reason,
                })
                .await?
                .into_inner();
            print_task(format, &t)
        }
        More::Meetings(Meetings::Record(m)) => {
            let meeting = client
                .record_meeting(pb::RecordMeetingRequest {
                    request_id: request_id(),
                    meeting: Some(pb::Meeting {
                        department: m.department,
                        title: m.title,
                        held_time: Some(m.held),
                        attendees: m.attendees,
                        progress: m.progress,
                        problems: m.problems,
                        action_items: m.actions,
                        ..Default::default()
                    }),
                })
                .await?
                .into_inner();
            print_meeting(format, &meeting)
        }
        More::Meetings(Meetings::Get { name }) => {
            let meeting = client
                .get_meeting(pb::GetMeetingRequest {
                    name: named("meetings", &name),
                })
                .await?
                .into_inner();
            print_meeting(format, &meeting)
        }
        More::Meetings(Meetings::List { department }) => {
            let request = pb::ListMeetingsRequest {
                department,
                ..Default::default()
            };
            let meetings = crate::list_all!(client, list_meetings, request, meetings).await?;
            let list = pb::ListMeetingsResponse {
                meetings,
                next_page_token: String::new(),
            };
            output::listing(
                format,
                &list,
                "procedo.workflow.v1.ListMeetingsResponse",
                &["NAME", "HELD", "DEPARTMENT", "TITLE", "ACTIONS"],
                || {
                    list.meetings
                        .iter()
                        .map(|m| {
                            vec![
                                m.name.clone(),
                                time(m.held_time.as_ref()),
                                m.department.clone(),
                                m.title.clone(),
                                m.action_items.len().to_string(),
                            ]
                        })
                        .collect()
                },
            )
        }
    }
}

/// An instance with its coordination items, each with the id that
/// resolves it.
fn print_coordination(format: Format, i: &pb::Instance) -> anyhow::Result<()> {
    match format {
        Format::Json => print_instance(format, i),
        Format::Table => {
            output::table(
                &["ITEM", "DEPARTMENT", "PROBLEM", "RESOLVED", "RESOLUTION"],
                &i.coordination_items
                    .iter()
                    .map(|c| {
                        vec![
                            c.id.clone(),
                            c.responsible_department.clone(),
                            c.problem.clone(),
                            if c.resolved { "yes" } else { "no" }.to_owned(),
                            c.resolution.clone(),
                        ]
                    })
                    .collect::<Vec<_>>(),
            );
            Ok(())
        }
    }
}

fn print_task(format: Format, t: &pb::Task) -> anyhow::Result<()> {
    output::record(
        format,
        t,
        "procedo.workflow.v1.Task",
        vec![
            ("name", t.name.clone()),
            ("instance", t.instance.clone()),
            ("step", t.step.clone()),
            ("department", t.department.clone()),
            ("assignee", t.assignee.clone()),
            ("due", time(t.due_time.as_ref())),
            ("etag", t.etag.clone()),
        ],
    )
}

fn print_meeting(format: Format, m: &pb::Meeting) -> anyhow::Result<()> {
    output::record(
        format,
        m,
        "procedo.workflow.v1.Meeting",
        vec![
            ("name", m.name.clone()),
            ("held", time(m.held_time.as_ref())),
            ("department", m.department.clone()),
            ("title", m.title.clone()),
            ("attendees", m.attendees.join(", ")),
            ("problems", m.problems.join("; ")),
            (
                "action items",
                m.action_items
                    .iter()
                    .map(|a| format!("{} ({}) → {}", a.description, a.owner, a.task))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ],
    )
}
