//! `procedo intake …`: the intake API from the command line.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use procedo_platform::calendar::Limit;
use procedo_proto::common;
use procedo_proto::intake as pb;
use procedo_proto::intake::intake_service_client::IntakeServiceClient;
use tokio_stream::StreamExt as _;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::client::{Auth, Connection};
use crate::output::{self, Format, csv_field, money, time};

type Client = IntakeServiceClient<InterceptedService<Channel, Auth>>;

#[derive(Debug, Args)]
pub struct IntakeCommand {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Submit an application; it gets its ledger number and completeness check.
    Submit(Submit),
    /// Show one application, by its name (applications/{id}) or its ledger
    /// number (SQ-2026-000042).
    Get {
        /// applications/{id}, or a ledger number.
        name: String,
    },
    /// Hand in missing or corrected materials (and optionally a corrected matter).
    Supplement(Supplement),
    /// Preliminary review: accept, reject, or request correction.
    Review(Review),
    /// Withdraw an application.
    Withdraw {
        /// The application (applications/{id}).
        name: String,
        /// Why it is withdrawn (kept in its history).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Every status change of an application.
    History {
        /// The application (applications/{id}).
        name: String,
    },
    /// Query the intake ledger.
    Ledger(LedgerQuery),
    /// Export the ledger (or the filtered part) to a CSV file.
    Export {
        #[command(flatten)]
        filter: LedgerFilterArgs,
        /// The CSV file to write; `-` for standard output. An existing file
        /// is replaced only once the export is complete.
        #[arg(long)]
        out: PathBuf,
    },
    /// Application types: the catalogue.
    #[command(subcommand)]
    Types(TypesAction),
    /// Customer inquiries.
    #[command(subcommand)]
    Inquiries(InquiriesAction),
    /// Customer notifications and their delivery attempts.
    Notifications {
        /// Only those about this resource (applications/… or inquiries/…).
        #[arg(long, default_value = "")]
        resource: String,
    },
}

#[derive(Debug, Args)]
struct Submit {
    /// Application type code.
    #[arg(long = "type")]
    type_code: String,
    /// Applicant's name.
    #[arg(long)]
    applicant: String,
    /// The applicant's organisation.
    #[arg(long, default_value = "")]
    organisation: String,
    /// The applicant's phone number.
    #[arg(long, default_value = "")]
    phone: String,
    /// The applicant's e-mail address.
    #[arg(long, default_value = "")]
    email: String,
    /// The matter's title.
    #[arg(long)]
    title: String,
    /// What the matter is about, in a sentence or two.
    #[arg(long, default_value = "")]
    description: String,
    /// Amount in major units, up to two decimals (e.g. 5000.00).
    #[arg(long, value_parser = output::parse_amount)]
    amount: Option<i64>,
    /// The amount's currency (ISO 4217).
    #[arg(long, default_value = "CNY")]
    currency: String,
    /// A material: NAME=SHA256 (64 hex digits) or NAME@DOCUMENT_REF; repeat.
    #[arg(long = "material", value_parser = parse_material)]
    materials: Vec<pb::Material>,
    /// Makes retries safe: the same id returns the first result.
    #[arg(long, default_value = "")]
    request_id: String,
}

#[derive(Debug, Args)]
struct Supplement {
    /// The application (applications/{id}).
    name: String,
    /// NAME=SHA256 or NAME@DOCUMENT_REF; repeat.
    #[arg(long = "material", value_parser = parse_material)]
    materials: Vec<pb::Material>,
    /// Corrected title (with --description).
    #[arg(long)]
    title: Option<String>,
    /// A corrected description of the matter.
    #[arg(long, default_value = "")]
    description: String,
    /// A note kept with the supplement in the history.
    #[arg(long, default_value = "")]
    note: String,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false, id = "decision")]
struct Decision {
    /// Accept: the application is in order and its process starts.
    #[arg(long)]
    accept: bool,
    /// Reject: out-of-scope or unclear (give --reason).
    #[arg(long, value_parser = ["out-of-scope", "unclear"])]
    reject: Option<String>,
    /// Ask for a correction of this item; repeat.
    #[arg(long = "correct")]
    corrections: Vec<String>,
}

#[derive(Debug, Args)]
struct Review {
    /// The application (applications/{id}).
    name: String,
    #[command(flatten)]
    decision: Decision,
    /// Explanation given with a rejection.
    #[arg(long, default_value = "")]
    reason: String,
    /// The reviewer's comment, kept in the history.
    #[arg(long, default_value = "")]
    comment: String,
}

#[derive(Debug, Clone, Args)]
struct LedgerFilterArgs {
    /// Submitted on or after (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_parser = parse_time)]
    from: Option<prost_types::Timestamp>,
    /// Submitted before (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_parser = parse_time)]
    to: Option<prost_types::Timestamp>,
    /// Part of the applicant's name or organisation.
    #[arg(long, default_value = "")]
    applicant: String,
    /// Only applications of this type (its code).
    #[arg(long = "type", default_value = "")]
    type_code: String,
    /// INCOMPLETE, PENDING_REVIEW, CORRECTION_REQUESTED, ACCEPTED, REJECTED, WITHDRAWN.
    #[arg(long, value_parser = parse_status)]
    status: Option<pb::ApplicationStatus>,
    /// Only applications whose processing clock ran out while running.
    #[arg(long, conflicts_with_all = ["paused", "due_within"])]
    overdue: bool,
    /// Only applications waiting for the applicant (clock paused).
    #[arg(long, conflicts_with = "due_within")]
    paused: bool,
    /// Only applications due within this long from now (e.g. 2d, 8h).
    #[arg(long, value_parser = humantime::parse_duration)]
    due_within: Option<Duration>,
    /// Only the application with this ledger number (SQ-2026-000042).
    #[arg(long, default_value = "")]
    ledger_number: String,
}

impl LedgerFilterArgs {
    fn to_proto(&self) -> pb::LedgerFilter {
        pb::LedgerFilter {
            submitted_after: self.from,
            submitted_before: self.to,
            applicant: self.applicant.clone(),
            type_code: self.type_code.clone(),
            status: self.status.map_or(0, |s| s as i32),
            overdue_only: self.overdue,
            paused_only: self.paused,
            due_within: self.due_within.map(duration_to_proto),
            ledger_number: self.ledger_number.clone(),
        }
    }
}

#[derive(Debug, Args)]
struct LedgerQuery {
    #[command(flatten)]
    filter: LedgerFilterArgs,
}

#[derive(Debug, Subcommand)]
enum TypesAction {
    /// Add a type to the catalogue.
    Create {
        /// The type's code (lower-case letters, digits, dashes), e.g. loan.
        #[arg(long)]
        code: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// The business is outside the company's scope.
        #[arg(long)]
        out_of_scope: bool,
        /// A mandatory material; repeat.
        #[arg(long = "material")]
        mandatory: Vec<String>,
        /// An optional material; repeat.
        #[arg(long = "optional")]
        optional: Vec<String>,
        /// Processing time limit: elapsed (5days) or working time on the
        /// company's calendar (5wd working days, 8wh working hours).
        #[arg(long, value_parser = Limit::parse)]
        time_limit: Limit,
        /// The workflow process key started on acceptance.
        #[arg(long, default_value = "standard")]
        process: String,
    },
    /// List the catalogue.
    List,
    /// Show one type with its checklist.
    Get {
        /// The type's code (or applicationTypes/{code}).
        code: String,
    },
    /// Change a type (admin): only what is given changes; a material list
    /// given replaces the checklist.
    Update {
        /// The type's code (or applicationTypes/{code}).
        code: String,
        /// A new display name.
        #[arg(long)]
        name: Option<String>,
        /// The business is outside the company's scope (or, with false,
        /// inside it again).
        #[arg(long)]
        out_of_scope: Option<bool>,
        /// A mandatory material; repeat. Replaces the checklist, with
        /// --optional.
        #[arg(long = "material")]
        mandatory: Vec<String>,
        /// An optional material; repeat.
        #[arg(long = "optional")]
        optional: Vec<String>,
        /// A new processing time limit (5days, 5wd, 8wh).
        #[arg(long, value_parser = Limit::parse)]
        time_limit: Option<Limit>,
        /// A new workflow process key started on acceptance.
        #[arg(long)]
        process: Option<String>,
        /// The type's etag: refuse if it changed meanwhile (the current
        /// one when unset).
        #[arg(long)]
        etag: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum InquiriesAction {
    /// Record an inquiry.
    Create {
        /// phone, email, online or walk_in.
        #[arg(long, value_parser = parse_channel)]
        channel: pb::Channel,
        /// The customer's name.
        #[arg(long)]
        customer: String,
        /// The customer's phone number.
        #[arg(long, default_value = "")]
        phone: String,
        /// The customer's e-mail address.
        #[arg(long, default_value = "")]
        email: String,
        /// What the inquiry is about, in a line.
        #[arg(long)]
        subject: String,
        /// The customer's question in full.
        #[arg(long)]
        text: String,
    },
    /// List inquiries, newest first.
    List {
        /// Only those whose response clock ran out unanswered.
        #[arg(long, conflicts_with_all = ["paused", "due_within"])]
        overdue: bool,
        /// Only those whose response clock is paused.
        #[arg(long, conflicts_with = "due_within")]
        paused: bool,
        /// Only those due within this long from now (e.g. 2h, 1d).
        #[arg(long, value_parser = humantime::parse_duration)]
        due_within: Option<Duration>,
        /// Only this department's.
        #[arg(long, default_value = "")]
        department: String,
    },
    /// Add a note to an inquiry; shared with the customer with
    /// --for-customer.
    Note {
        /// The inquiry (inquiries/{id}).
        name: String,
        /// The note.
        #[arg(long)]
        note: String,
        /// The customer is told (a notification is sent).
        #[arg(long)]
        for_customer: bool,
    },
    /// Every entry of an inquiry: answers, notes, escalations, status
    /// changes.
    Entries {
        /// The inquiry (inquiries/{id}).
        name: String,
    },
    /// Show one inquiry with its entries.
    Get {
        /// The inquiry (inquiries/{id}).
        name: String,
    },
    /// Record the answer given.
    Respond {
        /// The inquiry (inquiries/{id}).
        name: String,
        /// The answer given to the customer.
        #[arg(long)]
        answer: String,
        /// What is still needed from the customer, if anything.
        #[arg(long, default_value = "")]
        need: String,
    },
    /// Stop the response clock while waiting on the customer.
    Pause {
        /// The inquiry (inquiries/{id}).
        name: String,
        /// What the inquiry waits for (its clock stops meanwhile).
        #[arg(long)]
        reason: String,
    },
    /// Start the response clock again.
    Resume {
        /// The inquiry (inquiries/{id}).
        name: String,
        /// A note on what arrived, kept in the history.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Pass to a department or specialist.
    Escalate {
        /// The inquiry (inquiries/{id}).
        name: String,
        /// The department it is passed on to.
        #[arg(long, default_value = "")]
        department: String,
        /// The specialist (token subject) it is passed on to.
        #[arg(long, default_value = "")]
        specialist: String,
        /// Why it is escalated.
        #[arg(long)]
        reason: String,
    },
    /// Mark resolved.
    Resolve {
        /// The inquiry (inquiries/{id}).
        name: String,
        /// How it was resolved.
        #[arg(long)]
        resolution: String,
    },
    /// Close with the customer's satisfaction (1-5).
    Close {
        /// The inquiry (inquiries/{id}).
        name: String,
        /// The customer's satisfaction, 1 (poor) to 5 (very good).
        #[arg(long)]
        satisfaction: i32,
        /// The customer's remark, if any.
        #[arg(long, default_value = "")]
        remark: String,
    },
}

fn parse_material(spec: &str) -> Result<pb::Material, String> {
    if let Some((name, hash)) = spec.split_once('=') {
        Ok(pb::Material {
            name: name.to_owned(),
            content_sha256: hash.to_owned(),
            document_ref: String::new(),
        })
    } else if let Some((name, reference)) = spec.split_once('@') {
        Ok(pb::Material {
            name: name.to_owned(),
            content_sha256: String::new(),
            document_ref: reference.to_owned(),
        })
    } else {
        Err("expected NAME=SHA256 or NAME@DOCUMENT_REF".to_owned())
    }
}

/// A duration as the wire carries it.
pub(crate) fn duration_to_proto(d: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
    }
}

pub(crate) fn parse_time(s: &str) -> Result<prost_types::Timestamp, String> {
    let full = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_owned()
    };
    let at = humantime::parse_rfc3339_weak(&full).map_err(|e| format!("{s:?}: {e}"))?;
    let ms = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| format!("{s:?} is before 1970"))?
        .as_millis();
    Ok(procedo_platform::time::to_timestamp(
        i64::try_from(ms).map_err(|e| e.to_string())?,
    ))
}

fn parse_status(s: &str) -> Result<pb::ApplicationStatus, String> {
    pb::ApplicationStatus::from_str_name(&format!("APPLICATION_STATUS_{}", s.to_uppercase()))
        .ok_or_else(|| format!("unknown status {s:?}"))
}

fn parse_channel(s: &str) -> Result<pb::Channel, String> {
    pb::Channel::from_str_name(&format!("CHANNEL_{}", s.to_uppercase()))
        .ok_or_else(|| format!("unknown channel {s:?}"))
}

/// An enum value's name without its prefix; empty when unset.
fn short(value: i32, name: Option<&str>, prefix: &str) -> String {
    match name {
        _ if value == 0 => String::new(),
        Some(name) => name.trim_start_matches(prefix).to_owned(),
        None => value.to_string(),
    }
}

fn app_status(a: i32) -> String {
    short(
        a,
        pb::ApplicationStatus::try_from(a)
            .ok()
            .map(|s| s.as_str_name()),
        "APPLICATION_STATUS_",
    )
}

fn inquiry_status(i: i32) -> String {
    short(
        i,
        pb::InquiryStatus::try_from(i).ok().map(|s| s.as_str_name()),
        "INQUIRY_STATUS_",
    )
}

fn print_application(format: Format, a: &pb::Application) -> anyhow::Result<()> {
    let applicant = a.applicant.clone().unwrap_or_default();
    output::record(
        format,
        a,
        "procedo.intake.v1.Application",
        vec![
            ("name", a.name.clone()),
            ("ledger number", a.ledger_number.clone()),
            ("status", app_status(a.status)),
            ("stage", a.stage.clone()),
            ("process", a.process_instance.clone()),
            ("type", a.type_code.clone()),
            (
                "applicant",
                format!("{} {}", applicant.name, applicant.organisation)
                    .trim()
                    .to_owned(),
            ),
            (
                "matter",
                a.matter
                    .as_ref()
                    .map(|m| m.title.clone())
                    .unwrap_or_default(),
            ),
            ("amount", money(a.amount.as_ref())),
            (
                "materials",
                a.materials
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ("missing", a.missing_materials.join(", ")),
            ("to correct", a.correction_items.join("; ")),
            ("submitted", time(a.submit_time.as_ref())),
            ("due", time(a.due_time.as_ref())),
            ("etag", a.etag.clone()),
        ],
    )
}

/// A type's checklist: the mandatory materials, then the optional ones.
fn checklist(mandatory: Vec<String>, optional: Vec<String>) -> Vec<pb::MaterialRequirement> {
    let items = |names: Vec<String>, mandatory: bool| {
        names
            .into_iter()
            .map(move |name| pb::MaterialRequirement { name, mandatory })
    };
    items(mandatory, true)
        .chain(items(optional, false))
        .collect()
}

fn print_type(format: Format, t: &pb::ApplicationType) -> anyhow::Result<()> {
    let materials = |mandatory: bool| {
        t.materials
            .iter()
            .filter(|m| m.mandatory == mandatory)
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    output::record(
        format,
        t,
        "procedo.intake.v1.ApplicationType",
        vec![
            ("name", t.name.clone()),
            ("title", t.display_name.clone()),
            ("in scope", t.in_scope.to_string()),
            ("mandatory", materials(true)),
            ("optional", materials(false)),
            (
                "time limit",
                t.processing_limit
                    .as_ref()
                    .and_then(Limit::from_proto)
                    .map(|l| l.to_string())
                    .unwrap_or_default(),
            ),
            ("process", t.process_key.clone()),
            ("etag", t.etag.clone()),
        ],
    )
}

fn print_inquiry(format: Format, i: &pb::Inquiry) -> anyhow::Result<()> {
    output::record(
        format,
        i,
        "procedo.intake.v1.Inquiry",
        vec![
            ("name", i.name.clone()),
            ("status", inquiry_status(i.status)),
            ("subject", i.subject.clone()),
            (
                "customer",
                i.customer
                    .as_ref()
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
            ),
            ("department", i.department.clone()),
            ("response due", time(i.response_due_time.as_ref())),
            ("overdue", i.overdue.to_string()),
            ("entries", i.entries.len().to_string()),
            ("etag", i.etag.clone()),
        ],
    )
}

pub async fn run(command: IntakeCommand) -> anyhow::Result<()> {
    let connection = command.connection;
    let format = connection.output;
    let mut client: Client = IntakeServiceClient::with_interceptor(
        connection.channel(crate::client::INTAKE).await?,
        connection.auth(),
    );
    match command.action {
        Action::Submit(s) => {
            let amount = s.amount.map(|minor_units| common::Money {
                currency_code: s.currency.clone(),
                minor_units,
            });
            let a = client
                .submit_application(pb::SubmitApplicationRequest {
                    request_id: s.request_id,
                    type_code: s.type_code,
                    applicant: Some(pb::Applicant {
                        name: s.applicant,
                        organisation: s.organisation,
                        phone: s.phone,
                        email: s.email,
                    }),
                    matter: Some(pb::Matter {
                        title: s.title,
                        description: s.description,
                    }),
                    amount,
                    materials: s.materials,
                })
                .await?
                .into_inner();
            print_application(format, &a)?;
        }
        Action::Get { name } => {
            let name = if name.starts_with("applications/") {
                name
            } else {
                application_of_ledger_number(&mut client, &name).await?
            };
            let a = client
                .get_application(pb::GetApplicationRequest { name })
                .await?
                .into_inner();
            print_application(format, &a)?;
        }
        Action::Supplement(s) => {
            let a = client
                .supplement_application(pb::SupplementApplicationRequest {
                    name: s.name,
                    materials: s.materials,
                    matter: s.title.map(|title| pb::Matter {
                        title,
                        description: s.description,
                    }),
                    note: s.note,
                    ..Default::default()
                })
                .await?
                .into_inner();
            print_application(format, &a)?;
        }
        Action::Review(r) => {
            let (decision, rejection) = if r.decision.accept {
                (pb::ReviewDecision::Accept, None)
            } else if let Some(reason) = &r.decision.reject {
                let reason = if reason == "unclear" {
                    pb::RejectionReason::Unclear
                } else {
                    pb::RejectionReason::OutOfScope
                };
                (
                    pb::ReviewDecision::Reject,
                    Some(pb::Rejection {
                        reason: reason as i32,
                        explanation: r.reason.clone(),
                    }),
                )
            } else {
                (pb::ReviewDecision::RequestCorrection, None)
            };
            let a = client
                .review_application(pb::ReviewApplicationRequest {
                    name: r.name,
                    decision: decision as i32,
                    rejection,
                    correction_items: r.decision.corrections,
                    comment: r.comment,
                    ..Default::default()
                })
                .await?
                .into_inner();
            print_application(format, &a)?;
        }
        Action::Withdraw { name, reason } => {
            let a = client
                .withdraw_application(pb::WithdrawApplicationRequest {
                    name,
                    reason,
                    ..Default::default()
                })
                .await?
                .into_inner();
            print_application(format, &a)?;
        }
        Action::History { name } => {
            let request = pb::ListApplicationHistoryRequest {
                name,
                ..Default::default()
            };
            let entries =
                crate::list_all!(client, list_application_history, request, entries).await?;
            let h = pb::ListApplicationHistoryResponse {
                entries,
                ..Default::default()
            };
            output::listing(
                format,
                &h,
                "procedo.intake.v1.ListApplicationHistoryResponse",
                &["TIME", "ACTION", "FROM", "TO", "BY", "REASON"],
                || {
                    h.entries
                        .iter()
                        .map(|e| {
                            vec![
                                time(e.time.as_ref()),
                                e.action.clone(),
                                app_status(e.from_status),
                                app_status(e.to_status),
                                e.actor
                                    .as_ref()
                                    .map(|a| a.subject.clone())
                                    .unwrap_or_default(),
                                e.reason.clone(),
                            ]
                        })
                        .collect::<Vec<_>>()
                },
            )?;
        }
        Action::Ledger(q) => {
            let request = pb::QueryLedgerRequest {
                filter: Some(q.filter.to_proto()),
                ..Default::default()
            };
            let entries = crate::list_all!(client, query_ledger, request, entries).await?;
            let page = pb::QueryLedgerResponse {
                entries,
                next_page_token: String::new(),
            };
            output::listing(
                format,
                &page,
                "procedo.intake.v1.QueryLedgerResponse",
                &[
                    "LEDGER NUMBER",
                    "APPLICATION",
                    "SUBMITTED",
                    "APPLICANT",
                    "TYPE",
                    "MATTER",
                    "AMOUNT",
                    "STATUS",
                ],
                || {
                    page.entries
                        .iter()
                        .map(|e| {
                            vec![
                                e.ledger_number.clone(),
                                e.application.clone(),
                                time(e.submit_time.as_ref()),
                                e.applicant
                                    .as_ref()
                                    .map(|a| a.name.clone())
                                    .unwrap_or_default(),
                                e.type_code.clone(),
                                e.matter_title.clone(),
                                money(e.amount.as_ref()),
                                app_status(e.status),
                            ]
                        })
                        .collect()
                },
            )?;
        }
        Action::Export { filter, out } => export(&mut client, &filter, &out).await?,
        Action::Types(action) => types(&mut client, format, action).await?,
        Action::Inquiries(action) => inquiries(&mut client, format, action).await?,
        Action::Notifications { resource } => {
            let request = pb::ListNotificationsRequest {
                resource,
                ..Default::default()
            };
            let notifications =
                crate::list_all!(client, list_notifications, request, notifications).await?;
            let list = pb::ListNotificationsResponse {
                notifications,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.intake.v1.ListNotificationsResponse",
                &[
                    "CREATED",
                    "RESOURCE",
                    "STATUS",
                    "ATTEMPTS",
                    "LAST OUTCOME",
                    "MESSAGE",
                ],
                || {
                    list.notifications
                        .iter()
                        .map(|n| {
                            let status = pb::DeliveryStatus::try_from(n.status)
                                .map(|s| s.as_str_name())
                                .unwrap_or("?");
                            vec![
                                time(n.create_time.as_ref()),
                                n.resource.clone(),
                                status.trim_start_matches("DELIVERY_STATUS_").to_owned(),
                                n.attempts.len().to_string(),
                                n.attempts
                                    .last()
                                    .map(|a| a.outcome.clone())
                                    .unwrap_or_default(),
                                n.message.clone(),
                            ]
                        })
                        .collect::<Vec<_>>()
                },
            )?;
        }
    }
    Ok(())
}

/// The application a ledger number was given to.
async fn application_of_ledger_number(client: &mut Client, number: &str) -> anyhow::Result<String> {
    let found = client
        .query_ledger(pb::QueryLedgerRequest {
            filter: Some(pb::LedgerFilter {
                ledger_number: number.to_owned(),
                ..Default::default()
            }),
            page_size: 1,
            page_token: String::new(),
        })
        .await?
        .into_inner();
    found
        .entries
        .into_iter()
        .next()
        .map(|e| e.application)
        .ok_or_else(|| anyhow::anyhow!("no application has the ledger number {number}"))
}

/// Streams the ledger into a CSV file, showing progress as rows arrive.
async fn export(
    client: &mut Client,
    filter: &LedgerFilterArgs,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let mut writer = output::OutFile::create(out)?;
    writeln!(
        writer,
        "ledger_number,submit_time,applicant,organisation,phone,email,type,matter,amount_minor_units,currency,materials,status"
    )?;
    let mut stream = client
        .export_ledger(pb::ExportLedgerRequest {
            filter: Some(filter.to_proto()),
        })
        .await?
        .into_inner();
    let progress = indicatif::ProgressBar::new_spinner();
    progress.set_style(indicatif::ProgressStyle::with_template(
        "{spinner} {human_pos} rows ({per_sec}) {elapsed}",
    )?);
    progress.enable_steady_tick(Duration::from_millis(100));
    while let Some(row) = stream.next().await {
        let e = row?;
        let applicant = e.applicant.clone().unwrap_or_default();
        let amount = e.amount.clone();
        let fields = [
            e.ledger_number.clone(),
            time(e.submit_time.as_ref()),
            applicant.name,
            applicant.organisation,
            applicant.phone,
            applicant.email,
            e.type_code.clone(),
            e.matter_title.clone(),
            amount
                .as_ref()
                .map(|m| m.minor_units.to_string())
                .unwrap_or_default(),
            amount.map(|m| m.currency_code).unwrap_or_default(),
            e.material_names.join("; "),
            app_status(e.status),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        writeln!(writer, "{}", line.join(","))?;
        progress.inc(1);
    }
    let to_stdout = writer.is_stdout();
    writer.finish()?;
    progress.finish();
    if !to_stdout {
        eprintln!("wrote {} rows to {}", progress.position(), out.display());
    }
    Ok(())
}

async fn types(client: &mut Client, format: Format, action: TypesAction) -> anyhow::Result<()> {
    match action {
        TypesAction::Create {
            code,
            name,
            out_of_scope,
            mandatory,
            optional,
            time_limit,
            process,
        } => {
            let materials = checklist(mandatory, optional);
            let t = client
                .create_application_type(pb::CreateApplicationTypeRequest {
                    request_id: String::new(),
                    application_type: Some(pb::ApplicationType {
                        code,
                        display_name: name,
                        in_scope: !out_of_scope,
                        materials,
                        processing_limit: Some(time_limit.to_proto()),
                        process_key: process,
                        ..Default::default()
                    }),
                })
                .await?
                .into_inner();
            output::record(
                format,
                &t,
                "procedo.intake.v1.ApplicationType",
                vec![("name", t.name.clone()), ("etag", t.etag.clone())],
            )?;
        }
        TypesAction::Get { code } => {
            let t = client
                .get_application_type(pb::GetApplicationTypeRequest {
                    name: output::named("applicationTypes", &code),
                })
                .await?
                .into_inner();
            print_type(format, &t)?;
        }
        TypesAction::Update {
            code,
            name,
            out_of_scope,
            mandatory,
            optional,
            time_limit,
            process,
            etag,
        } => {
            let mut t = client
                .get_application_type(pb::GetApplicationTypeRequest {
                    name: output::named("applicationTypes", &code),
                })
                .await?
                .into_inner();
            if let Some(name) = name {
                t.display_name = name;
            }
            if let Some(out) = out_of_scope {
                t.in_scope = !out;
            }
            if !mandatory.is_empty() || !optional.is_empty() {
                t.materials = checklist(mandatory, optional);
            }
            if let Some(limit) = time_limit {
                t.processing_limit = Some(limit.to_proto());
                t.processing_time_limit = None;
            }
            if let Some(process) = process {
                t.process_key = process;
            }
            if let Some(etag) = etag {
                t.etag = etag;
            }
            let t = client
                .update_application_type(pb::UpdateApplicationTypeRequest {
                    request_id: output::request_id(),
                    application_type: Some(t),
                })
                .await?
                .into_inner();
            print_type(format, &t)?;
        }
        TypesAction::List => {
            let request = pb::ListApplicationTypesRequest {
                ..Default::default()
            };
            let application_types =
                crate::list_all!(client, list_application_types, request, application_types)
                    .await?;
            let list = pb::ListApplicationTypesResponse {
                application_types,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.intake.v1.ListApplicationTypesResponse",
                &[
                    "CODE",
                    "NAME",
                    "IN SCOPE",
                    "MANDATORY MATERIALS",
                    "LIMIT",
                    "PROCESS",
                ],
                || {
                    list.application_types
                        .iter()
                        .map(|t| {
                            vec![
                                t.code.clone(),
                                t.display_name.clone(),
                                t.in_scope.to_string(),
                                t.materials
                                    .iter()
                                    .filter(|m| m.mandatory)
                                    .map(|m| m.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                t.processing_limit
                                    .as_ref()
                                    .and_then(Limit::from_proto)
                                    .map(|l| l.to_string())
                                    .unwrap_or_default(),
                                t.process_key.clone(),
                            ]
                        })
                        .collect::<Vec<_>>()
                },
            )?;
        }
    }
    Ok(())
}

async fn inquiries(
    client: &mut Client,
    format: Format,
    action: InquiriesAction,
) -> anyhow::Result<()> {
    let inquiry = match action {
        InquiriesAction::Create {
            channel,
            customer,
            phone,
            email,
            subject,
            text,
        } => {
            client
                .create_inquiry(pb::CreateInquiryRequest {
                    request_id: String::new(),
                    channel: channel as i32,
                    customer: Some(pb::Customer {
                        name: customer,
                        phone,
                        email,
                    }),
                    subject,
                    text,
                })
                .await?
        }
        InquiriesAction::List {
            overdue,
            paused,
            due_within,
            department,
        } => {
            let request = pb::ListInquiriesRequest {
                overdue_only: overdue,
                paused_only: paused,
                due_within: due_within.map(duration_to_proto),
                department,
                ..Default::default()
            };
            let inquiries = crate::list_all!(client, list_inquiries, request, inquiries).await?;
            let list = pb::ListInquiriesResponse {
                inquiries,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.intake.v1.ListInquiriesResponse",
                &["NAME", "STATUS", "SUBJECT", "CUSTOMER", "DUE", "OVERDUE"],
                || {
                    list.inquiries
                        .iter()
                        .map(|i| {
                            vec![
                                i.name.clone(),
                                inquiry_status(i.status),
                                i.subject.clone(),
                                i.customer
                                    .as_ref()
                                    .map(|c| c.name.clone())
                                    .unwrap_or_default(),
                                time(i.response_due_time.as_ref()),
                                if i.overdue {
                                    "yes".into()
                                } else {
                                    String::new()
                                },
                            ]
                        })
                        .collect::<Vec<_>>()
                },
            )?;
            return Ok(());
        }
        InquiriesAction::Get { name } => client.get_inquiry(pb::GetInquiryRequest { name }).await?,
        InquiriesAction::Note {
            name,
            note,
            for_customer,
        } => {
            client
                .add_inquiry_note(pb::AddInquiryNoteRequest {
                    request_id: output::request_id(),
                    name,
                    note,
                    for_customer,
                })
                .await?
        }
        InquiriesAction::Entries { name } => {
            let request = pb::ListInquiryEntriesRequest {
                name,
                ..Default::default()
            };
            let entries = crate::list_all!(client, list_inquiry_entries, request, entries).await?;
            let list = pb::ListInquiryEntriesResponse {
                entries,
                next_page_token: String::new(),
            };
            output::listing(
                format,
                &list,
                "procedo.intake.v1.ListInquiryEntriesResponse",
                &["TIME", "KIND", "BY", "TEXT", "SHARED"],
                || {
                    list.entries
                        .iter()
                        .map(|e| {
                            vec![
                                time(e.time.as_ref()),
                                pb::InquiryEntryKind::try_from(e.kind)
                                    .map(|k| {
                                        k.as_str_name()
                                            .trim_start_matches("INQUIRY_ENTRY_KIND_")
                                            .to_owned()
                                    })
                                    .unwrap_or_default(),
                                e.actor
                                    .as_ref()
                                    .map(|a| a.subject.clone())
                                    .unwrap_or_default(),
                                e.text.clone(),
                                if e.shared_with_customer { "yes" } else { "" }.to_owned(),
                            ]
                        })
                        .collect()
                },
            )?;
            return Ok(());
        }
        InquiriesAction::Respond { name, answer, need } => {
            client
                .respond_to_inquiry(pb::RespondToInquiryRequest {
                    name,
                    answer,
                    customer_need: need,
                    ..Default::default()
                })
                .await?
        }
        InquiriesAction::Pause { name, reason } => {
            client
                .pause_inquiry(pb::PauseInquiryRequest {
                    name,
                    reason,
                    ..Default::default()
                })
                .await?
        }
        InquiriesAction::Resume { name, note } => {
            client
                .resume_inquiry(pb::ResumeInquiryRequest {
                    name,
                    note,
                    ..Default::default()
                })
                .await?
        }
        InquiriesAction::Escalate {
            name,
            department,
            specialist,
            reason,
        } => {
            client
                .escalate_inquiry(pb::EscalateInquiryRequest {
                    name,
                    department,
                    specialist,
                    reason,
                    ..Default::default()
                })
                .await?
        }
        InquiriesAction::Resolve { name, resolution } => {
            client
                .resolve_inquiry(pb::ResolveInquiryRequest {
                    name,
                    resolution,
                    ..Default::default()
                })
                .await?
        }
        InquiriesAction::Close {
            name,
            satisfaction,
            remark,
        } => {
            client
                .close_inquiry(pb::CloseInquiryRequest {
                    name,
                    satisfaction,
                    remark,
                    ..Default::default()
                })
                .await?
        }
    };
    print_inquiry(format, &inquiry.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_as_two_decimal_minor_units() {
        assert_eq!(output::parse_amount("5000").ok(), Some(500_000));
        assert_eq!(output::parse_amount("12.5").ok(), Some(1_250));
        assert_eq!(output::parse_amount("0.07").ok(), Some(7));
        assert!(output::parse_amount("1.234").is_err());
        assert!(output::parse_amount("abc").is_err());
    }

    #[test]
    fn materials_take_a_hash_or_a_document_reference() {
        let hashed = parse_material("ID card=abc").expect("hash");
        assert_eq!(
            (hashed.name.as_str(), hashed.content_sha256.as_str()),
            ("ID card", "abc")
        );
        let referenced = parse_material("Licence@documents/1").expect("ref");
        assert_eq!(referenced.document_ref, "documents/1");
        assert!(parse_material("nothing").is_err());
    }
}
