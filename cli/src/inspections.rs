//! `procedo compliance inspections|notices|filings …`: the
//! compliance service's supervision (§6.1) and regulatory filings
//! (§5.2.3). Changes are unconditional (no etag) and carry a fresh request
//! id.

use clap::{Args, Subcommand};
use procedo_proto::compliance as pb;
use procedo_proto::compliance::filing_service_client::FilingServiceClient;
use procedo_proto::compliance::inspection_service_client::InspectionServiceClient;
use procedo_proto::compliance::rectification_service_client::RectificationServiceClient;

use crate::client::{COMPLIANCE, Connection};
use crate::intake::parse_time;
use crate::output::{self, Format, named, request_id, time};

/// An enum value's name without its prefix, e.g. "OPEN".
fn short(name: Option<&str>, prefix: &str) -> String {
    name.map(|n| n.trim_start_matches(prefix).to_owned())
        .unwrap_or_default()
}

fn parse_scope(s: &str) -> Result<pb::InspectionScope, String> {
    match s {
        "process" => Ok(pb::InspectionScope::ProcessCompliance),
        "documents" => Ok(pb::InspectionScope::DocumentManagement),
        "communication" => Ok(pb::InspectionScope::Communication),
        _ => Err(format!("{s:?}: one of process, documents, communication")),
    }
}

/// "criterion" or "criterion|§4.2".
fn parse_item(s: &str) -> Result<pb::ChecklistItemSpec, String> {
    let (criterion, clause) = s.split_once('|').unwrap_or((s, ""));
    Ok(pb::ChecklistItemSpec {
        criterion: criterion.trim().to_owned(),
        clause: clause.trim().to_owned(),
    })
}

fn documents(ids: &[String]) -> Vec<String> {
    ids.iter().map(|d| named("documents", d)).collect()
}

#[derive(Debug, Args)]
pub struct InspectionsCommand {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: Inspect,
}

#[derive(Debug, Subcommand)]
enum Inspect {
    /// Create a reusable checklist (auditors).
    NewTemplate {
        /// The template's title.
        #[arg(long)]
        title: String,
        /// process, documents or communication.
        #[arg(long, value_parser = parse_scope)]
        scope: pb::InspectionScope,
        /// A checklist item, "criterion" or "criterion|§clause"; repeat.
        #[arg(long = "item", value_parser = parse_item, required = true)]
        items: Vec<pb::ChecklistItemSpec>,
    },
    /// Checklist templates, newest first.
    Templates,
    /// Create an inspection plan (auditors).
    NewPlan {
        /// The plan's title.
        #[arg(long)]
        title: String,
        /// The period's start (YYYY-MM-DD or RFC 3339).
        #[arg(long, value_parser = parse_time)]
        from: prost_types::Timestamp,
        /// The period's end, exclusive.
        #[arg(long, value_parser = parse_time)]
        to: prost_types::Timestamp,
        /// process, documents or communication; repeat.
        #[arg(long = "scope", value_parser = parse_scope, required = true)]
        scopes: Vec<pb::InspectionScope>,
        /// A department to inspect; repeat.
        #[arg(long = "department", required = true)]
        departments: Vec<String>,
        /// An inspector's subject; repeat.
        #[arg(long = "inspector", required = true)]
        inspectors: Vec<String>,
    },
    /// Inspection plans, newest first.
    Plans,
    /// Create an inspection of one department (auditors).
    New {
        /// The inspection's title.
        #[arg(long)]
        title: String,
        /// process, documents or communication.
        #[arg(long, value_parser = parse_scope)]
        scope: pb::InspectionScope,
        /// The department inspected.
        #[arg(long)]
        department: String,
        /// The plan it carries out (gives the period and inspectors).
        #[arg(long, default_value = "")]
        plan: String,
        /// The period's start, unless the plan gives it.
        #[arg(long, value_parser = parse_time)]
        from: Option<prost_types::Timestamp>,
        /// The period's end, exclusive.
        #[arg(long, value_parser = parse_time)]
        to: Option<prost_types::Timestamp>,
        /// A checklist template's id (or give --item).
        #[arg(long, default_value = "")]
        template: String,
        /// A checklist item, "criterion" or "criterion|§clause"; repeat.
        #[arg(long = "item", value_parser = parse_item)]
        items: Vec<pb::ChecklistItemSpec>,
    },
    /// Inspections, newest first.
    List {
        /// Only this department's.
        #[arg(long, default_value = "")]
        department: String,
    },
    /// One inspection: checklist, samples, candidates, findings.
    Get {
        /// The inspection (inspections/{id}).
        inspection: String,
    },
    /// Draw samples from intake's ledger, workflow and documents.
    Sample {
        /// The inspection (inspections/{id}).
        inspection: String,
        /// Applications from intake's ledger.
        #[arg(long, default_value_t = 0)]
        ledger: i32,
        /// Process instances from workflow.
        #[arg(long, default_value_t = 0)]
        instances: i32,
        /// Documents from the document service.
        #[arg(long, default_value_t = 0)]
        documents: i32,
    },
    /// Run the automatic checks: candidate findings from what the
    /// services reported.
    Check {
        /// The inspection (inspections/{id}).
        inspection: String,
    },
    /// Mark a checklist item.
    Mark {
        /// The inspection (inspections/{id}).
        inspection: String,
        /// The item's id: 1, 2, …
        item: String,
        /// The item's result.
        #[arg(long, value_parser = ["conforming", "nonconforming", "na"])]
        result: String,
        /// What the inspector saw.
        #[arg(long, default_value = "")]
        notes: String,
        /// A document id as evidence; repeat.
        #[arg(long = "evidence")]
        evidence: Vec<String>,
    },
    /// Record a finding (from a candidate, or new).
    Finding {
        /// The inspection (inspections/{id}).
        inspection: String,
        /// How serious it is.
        #[arg(long, value_parser = ["minor", "major", "critical"])]
        severity: String,
        /// The clause violated, e.g. §4.2.1.
        #[arg(long)]
        clause: String,
        /// What was found.
        #[arg(long)]
        description: String,
        /// The candidate it comes from (its id on the inspection).
        #[arg(long, default_value = "")]
        candidate: String,
        /// A record involved, e.g. applications/<id>; repeat.
        #[arg(long = "resource")]
        resources: Vec<String>,
        /// A document id as evidence; repeat.
        #[arg(long = "evidence")]
        evidence: Vec<String>,
    },
    /// Set a candidate aside.
    Dismiss {
        /// The inspection (inspections/{id}).
        inspection: String,
        /// The candidate's id on the inspection.
        candidate: String,
        /// Why it is set aside.
        #[arg(long)]
        reason: String,
    },
    /// End the inspection (every item marked, every candidate decided).
    Complete {
        /// The inspection (inspections/{id}).
        inspection: String,
    },
    /// Findings, newest first.
    Findings {
        /// Only this inspection's (inspections/{id}).
        #[arg(long, default_value = "")]
        inspection: String,
        /// Only this department's.
        #[arg(long, default_value = "")]
        department: String,
    },
    /// Show one checklist template.
    Template {
        /// The template (checklistTemplates/{id}).
        template: String,
    },
    /// Show one inspection plan.
    Plan {
        /// The plan (inspectionPlans/{id}).
        plan: String,
    },
    /// Show one finding.
    ShowFinding {
        /// The finding (findings/{id}).
        finding: String,
    },
}

fn show_inspection(format: Format, i: &pb::Inspection) -> anyhow::Result<()> {
    match format {
        Format::Json => crate::out!("{}", output::json(i, "procedo.compliance.v1.Inspection")?),
        Format::Table => {
            output::record(
                format,
                i,
                "procedo.compliance.v1.Inspection",
                vec![
                    ("inspection", i.name.clone()),
                    ("title", i.title.clone()),
                    ("department", i.department.clone()),
                    (
                        "period",
                        format!(
                            "{} – {}",
                            time(i.start_time.as_ref()),
                            time(i.end_time.as_ref())
                        ),
                    ),
                    (
                        "status",
                        short(
                            pb::InspectionStatus::try_from(i.status)
                                .ok()
                                .map(|s| s.as_str_name()),
                            "INSPECTION_STATUS_",
                        ),
                    ),
                    ("findings", i.findings.join(", ")),
                    ("etag", i.etag.clone()),
                ],
            )?;
            crate::out!();
            output::table(
                &["ITEM", "RESULT", "CLAUSE", "CRITERION", "NOTES"],
                &i.checklist
                    .iter()
                    .map(|c| {
                        vec![
                            c.id.clone(),
                            short(
                                pb::ChecklistResult::try_from(c.result)
                                    .ok()
                                    .map(|r| r.as_str_name()),
                                "CHECKLIST_RESULT_",
                            ),
                            c.clause.clone(),
                            c.criterion.clone(),
                            c.notes.clone(),
                        ]
                    })
                    .collect::<Vec<_>>(),
            );
            if !i.samples.is_empty() {
                crate::out!();
                output::table(
                    &["SAMPLE", "LABEL"],
                    &i.samples
                        .iter()
                        .map(|s| vec![s.resource.clone(), s.label.clone()])
                        .collect::<Vec<_>>(),
                );
            }
            if !i.candidates.is_empty() {
                crate::out!();
                output::table(
                    &["CANDIDATE", "CHECK", "STATUS", "RECORDS", "EVIDENCE"],
                    &i.candidates
                        .iter()
                        .map(|c| {
                            vec![
                                c.id.clone(),
                                short(
                                    pb::CheckKind::try_from(c.check)
                                        .ok()
                                        .map(|k| k.as_str_name()),
                                    "CHECK_KIND_",
                                ),
                                short(
                                    pb::CandidateStatus::try_from(c.status)
                                        .ok()
                                        .map(|s| s.as_str_name()),
                                    "CANDIDATE_STATUS_",
                                ),
                                c.resources.join(", "),
                                c.evidence.clone(),
                            ]
                        })
                        .collect::<Vec<_>>(),
                );
            }
        }
    }
    Ok(())
}

fn finding_row(f: &pb::Finding) -> Vec<String> {
    vec![
        f.name.clone(),
        f.department.clone(),
        short(
            pb::Severity::try_from(f.severity)
                .ok()
                .map(|s| s.as_str_name()),
            "SEVERITY_",
        ),
        f.clause.clone(),
        short(
            pb::FindingStatus::try_from(f.status)
                .ok()
                .map(|s| s.as_str_name()),
            "FINDING_STATUS_",
        ),
        f.resources.join(", "),
        f.description.clone(),
    ]
}

const FINDING_HEADERS: &[&str] = &[
    "FINDING",
    "DEPARTMENT",
    "SEVERITY",
    "CLAUSE",
    "STATUS",
    "RECORDS",
    "DESCRIPTION",
];

pub async fn inspections(command: InspectionsCommand) -> anyhow::Result<()> {
    let connection = command.connection;
    let format = connection.output;
    let mut client = InspectionServiceClient::with_interceptor(
        connection.channel(COMPLIANCE).await?,
        connection.auth(),
    );
    let inspection = |id: &str| named("inspections", id);
    match command.action {
        Inspect::Template { template } => {
            let found = client
                .get_checklist_template(pb::GetChecklistTemplateRequest {
                    name: named("checklistTemplates", &template),
                })
                .await?
                .into_inner();
            output::show(format, &found, "procedo.compliance.v1.ChecklistTemplate")
        }
        Inspect::Plan { plan } => {
            let found = client
                .get_inspection_plan(pb::GetInspectionPlanRequest {
                    name: named("inspectionPlans", &plan),
                })
                .await?
                .into_inner();
            output::show(format, &found, "procedo.compliance.v1.InspectionPlan")
        }
        Inspect::ShowFinding { finding } => {
            let found = client
                .get_finding(pb::GetFindingRequest {
                    name: named("findings", &finding),
                })
                .await?
                .into_inner();
            output::show(format, &found, "procedo.compliance.v1.Finding")
        }
        Inspect::NewTemplate {
            title,
            scope,
            items,
        } => {
            let t = client
                .create_checklist_template(pb::CreateChecklistTemplateRequest {
                    request_id: request_id(),
                    title,
                    scope: scope as i32,
                    items,
                })
                .await?
                .into_inner();
            output::record(
                format,
                &t,
                "procedo.compliance.v1.ChecklistTemplate",
                vec![
                    ("template", t.name.clone()),
                    ("items", t.items.len().to_string()),
                ],
            )
        }
        Inspect::Templates => {
            let request = pb::ListChecklistTemplatesRequest {
                ..Default::default()
            };
            let templates =
                crate::list_all!(client, list_checklist_templates, request, templates).await?;
            let list = pb::ListChecklistTemplatesResponse {
                templates,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListChecklistTemplatesResponse",
                &["TEMPLATE", "TITLE", "ITEMS"],
                || {
                    list.templates
                        .iter()
                        .map(|t| vec![t.name.clone(), t.title.clone(), t.items.len().to_string()])
                        .collect()
                },
            )
        }
        Inspect::NewPlan {
            title,
            from,
            to,
            scopes,
            departments,
            inspectors,
        } => {
            let p = client
                .create_inspection_plan(pb::CreateInspectionPlanRequest {
                    request_id: request_id(),
                    title,
                    start_time: Some(from),
                    end_time: Some(to),
                    scopes: scopes.into_iter().map(|s| s as i32).collect(),
                    departments,
                    inspectors,
                })
                .await?
                .into_inner();
            output::record(
                format,
                &p,
                "procedo.compliance.v1.InspectionPlan",
                vec![("plan", p.name.clone())],
            )
        }
        Inspect::Plans => {
            let request = pb::ListInspectionPlansRequest {
                ..Default::default()
            };
            let plans = crate::list_all!(client, list_inspection_plans, request, plans).await?;
            let list = pb::ListInspectionPlansResponse {
                plans,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListInspectionPlansResponse",
                &["PLAN", "TITLE", "FROM", "TO", "DEPARTMENTS"],
                || {
                    list.plans
                        .iter()
                        .map(|p| {
                            vec![
                                p.name.clone(),
                                p.title.clone(),
                                time(p.start_time.as_ref()),
                                time(p.end_time.as_ref()),
                                p.departments.join(", "),
                            ]
                        })
                        .collect()
                },
            )
        }
        Inspect::New {
            title,
            scope,
            department,
            plan,
            from,
            to,
            template,
            items,
        } => {
            let i = client
                .create_inspection(pb::CreateInspectionRequest {
                    request_id: request_id(),
                    plan: if plan.is_empty() {
                        plan
                    } else {
                        named("inspectionPlans", &plan)
                    },
                    title,
                    scope: scope as i32,
                    department,
                    start_time: from,
                    end_time: to,
                    inspectors: Vec::new(),
                    checklist_template: if template.is_empty() {
                        template
                    } else {
                        named("checklistTemplates", &template)
                    },
                    checklist: items,
                })
                .await?
                .into_inner();
            show_inspection(format, &i)
        }
        Inspect::List { department } => {
            let request = pb::ListInspectionsRequest {
                department,
                ..Default::default()
            };
            let inspections =
                crate::list_all!(client, list_inspections, request, inspections).await?;
            let list = pb::ListInspectionsResponse {
                inspections,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListInspectionsResponse",
                &["INSPECTION", "DEPARTMENT", "STATUS", "TITLE", "FINDINGS"],
                || {
                    list.inspections
                        .iter()
                        .map(|i| {
                            vec![
                                i.name.clone(),
                                i.department.clone(),
                                short(
                                    pb::InspectionStatus::try_from(i.status)
                                        .ok()
                                        .map(|s| s.as_str_name()),
                                    "INSPECTION_STATUS_",
                                ),
                                i.title.clone(),
                                i.findings.len().to_string(),
                            ]
                        })
                        .collect()
                },
            )
        }
        Inspect::Get { inspection: id } => {
            let i = client
                .get_inspection(pb::GetInspectionRequest {
                    name: inspection(&id),
                })
                .await?
                .into_inner();
            show_inspection(format, &i)
        }
        Inspect::Sample {
            inspection: id,
            ledger,
            instances,
            documents,
        } => {
            let sizes = [
                (pb::SampleSource::IntakeLedger, ledger),
                (pb::SampleSource::WorkflowInstances, instances),
                (pb::SampleSource::Documents, documents),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(source, count)| pb::SampleSize {
                source: source as i32,
                count,
            })
            .collect();
            let i = client
                .draw_samples(pb::DrawSamplesRequest {
                    request_id: request_id(),
                    inspection: inspection(&id),
                    etag: String::new(),
                    sizes,
                })
                .await?
                .into_inner();
            show_inspection(format, &i)
        }
        Inspect::Check { inspection: id } => {
            let i = client
                .run_checks(pb::RunChecksRequest {
                    request_id: request_id(),
                    inspection: inspection(&id),
                    etag: String::new(),
                })
                .await?
                .into_inner();
            show_inspection(format, &i)
        }
        Inspect::Mark {
            inspection: id,
            item,
            result,
            notes,
            evidence,
        } => {
            let result = match result.as_str() {
                "conforming" => pb::ChecklistResult::Conforming,
                "nonconforming" => pb::ChecklistResult::Nonconforming,
                _ => pb::ChecklistResult::NotApplicable,
            };
            let i = client
                .mark_checklist_item(pb::MarkChecklistItemRequest {
                    request_id: request_id(),
                    inspection: inspection(&id),
                    etag: String::new(),
                    item,
                    result: result as i32,
                    notes,
                    evidence: documents(&evidence),
                })
                .await?
                .into_inner();
            show_inspection(format, &i)
        }
        Inspect::Finding {
            inspection: id,
            severity,
            clause,
            description,
            candidate,
            resources,
            evidence,
        } => {
            let severity = match severity.as_str() {
                "minor" => pb::Severity::Minor,
                "major" => pb::Severity::Major,
                _ => pb::Severity::Critical,
            };
            let f = client
                .record_finding(pb::RecordFindingRequest {
                    request_id: request_id(),
                    inspection: inspection(&id),
                    etag: String::new(),
                    candidate,
                    severity: severity as i32,
                    clause,
                    resources,
                    description,
                    evidence: documents(&evidence),
                })
                .await?
                .into_inner();
            output::listing(
                format,
                &f,
                "procedo.compliance.v1.Finding",
                FINDING_HEADERS,
                || vec![finding_row(&f)],
            )
        }
        Inspect::Dismiss {
            inspection: id,
            candidate,
            reason,
        } => {
            let i = client
                .dismiss_candidate(pb::DismissCandidateRequest {
                    request_id: request_id(),
                    inspection: inspection(&id),
                    etag: String::new(),
                    candidate,
                    reason,
                })
                .await?
                .into_inner();
            show_inspection(format, &i)
        }
        Inspect::Complete { inspection: id } => {
            let i = client
                .complete_inspection(pb::CompleteInspectionRequest {
                    request_id: request_id(),
                    inspection: inspection(&id),
                    etag: String::new(),
                })
                .await?
                .into_inner();
            show_inspection(format, &i)
        }
        Inspect::Findings {
            inspection: id,
            department,
        } => {
            let request = pb::ListFindingsRequest {
                inspection: if id.is_empty() { id } else { inspection(&id) },
                department,
                ..Default::default()
            };
            let findings = crate::list_all!(client, list_findings, request, findings).await?;
            let list = pb::ListFindingsResponse {
                findings,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListFindingsResponse",
                FINDING_HEADERS,
                || list.findings.iter().map(finding_row).collect(),
            )
        }
    }
}

#[derive(Debug, Args)]
pub struct NoticesCommand {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: Notice,
}

#[derive(Debug, Subcommand)]
enum Notice {
    /// Issue a rectification notice for findings (auditors).
    Issue {
        /// A finding's id; repeat.
        #[arg(long = "finding", required = true)]
        findings: Vec<String>,
        /// The department that must rectify.
        #[arg(long)]
        department: String,
        /// The department head's subject.
        #[arg(long)]
        head: String,
        /// What must be rectified.
        #[arg(long)]
        requirements: String,
        /// The deadline as a time limit on the company's calendar, e.g.
        /// 10wd, 72h.
        #[arg(long, value_parser = procedo_platform::calendar::Limit::parse)]
        within: procedo_platform::calendar::Limit,
    },
    /// Notices, newest first.
    List {
        /// Only this department's.
        #[arg(long, default_value = "")]
        department: String,
        /// Only open notices past their deadline.
        #[arg(long)]
        overdue: bool,
    },
    /// Show one notice with its history.
    Get {
        /// The notice (rectificationNotices/{id}).
        notice: String,
    },
    /// ISSUED → ACKNOWLEDGED (the department).
    Ack {
        /// The notice (rectificationNotices/{id}).
        notice: String,
        /// A comment kept in the history.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// → IN_PROGRESS (the department).
    Start {
        /// The notice (rectificationNotices/{id}).
        notice: String,
        /// A comment kept in the history.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// → SUBMITTED, with evidence (the department).
    Submit {
        /// The notice (rectificationNotices/{id}).
        notice: String,
        /// A document id as evidence; repeat.
        #[arg(long = "evidence")]
        evidence: Vec<String>,
        /// What was done, kept with the evidence.
        #[arg(long, default_value = "")]
        notes: String,
    },
    /// SUBMITTED → VERIFIED: closed (auditors).
    Verify {
        /// The notice (rectificationNotices/{id}).
        notice: String,
        /// A comment kept in the history.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// SUBMITTED → REOPENED, with the reason and a new deadline (auditors).
    Reopen {
        /// The notice (rectificationNotices/{id}).
        notice: String,
        /// Why it is reopened.
        #[arg(long)]
        reason: String,
        /// The new deadline as a time limit on the company's calendar, e.g.
        /// 5wd, 72h.
        #[arg(long, value_parser = procedo_platform::calendar::Limit::parse)]
        within: procedo_platform::calendar::Limit,
    },
}

fn notice_row(n: &pb::RectificationNotice) -> Vec<String> {
    let deadline = n.deadline.clone().unwrap_or_default();
    vec![
        n.name.clone(),
        n.department.clone(),
        short(
            pb::NoticeStatus::try_from(n.status)
                .ok()
                .map(|s| s.as_str_name()),
            "NOTICE_STATUS_",
        ),
        time(deadline.due_time.as_ref()),
        if deadline.overdue { "yes" } else { "" }.to_owned(),
        n.findings.join(", "),
    ]
}

const NOTICE_HEADERS: &[&str] = &[
    "NOTICE",
    "DEPARTMENT",
    "STATUS",
    "DUE",
    "OVERDUE",
    "FINDINGS",
];

pub async fn notices(command: NoticesCommand) -> anyhow::Result<()> {
    let connection = command.connection;
    let format = connection.output;
    let mut client = RectificationServiceClient::with_interceptor(
        connection.channel(COMPLIANCE).await?,
        connection.auth(),
    );
    let notice = |id: &str| named("rectificationNotices", id);
    let n = match command.action {
        Notice::List {
            department,
            overdue,
        } => {
            let request = pb::ListNoticesRequest {
                department,
                overdue_only: overdue,
                ..Default::default()
            };
            let notices = crate::list_all!(client, list_notices, request, notices).await?;
            let list = pb::ListNoticesResponse {
                notices,
                ..Default::default()
            };
            return output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListNoticesResponse",
                NOTICE_HEADERS,
                || list.notices.iter().map(notice_row).collect(),
            );
        }
        Notice::Issue {
            findings,
            department,
            head,
            requirements,
            within,
        } => client
            .issue_notice(pb::IssueNoticeRequest {
                request_id: request_id(),
                findings: findings.iter().map(|f| named("findings", f)).collect(),
                department,
                department_head: head,
                requirements,
                time_limit: Some(within.to_proto()),
                due_time: None,
            })
            .await?
            .into_inner(),
        Notice::Get { notice: id } => client
            .get_notice(pb::GetNoticeRequest { name: notice(&id) })
            .await?
            .into_inner(),
        Notice::Ack {
            notice: id,
            comment,
        } => client
            .acknowledge_notice(pb::AcknowledgeNoticeRequest {
                request_id: request_id(),
                notice: notice(&id),
                etag: String::new(),
                comment,
            })
            .await?
            .into_inner(),
        Notice::Start {
            notice: id,
            comment,
        } => client
            .start_rectification(pb::StartRectificationRequest {
                request_id: request_id(),
                notice: notice(&id),
                etag: String::new(),
                comment,
            })
            .await?
            .into_inner(),
        Notice::Submit {
            notice: id,
            evidence,
            notes,
        } => client
            .submit_rectification(pb::SubmitRectificationRequest {
                request_id: request_id(),
                notice: notice(&id),
                etag: String::new(),
                evidence: documents(&evidence),
                notes,
            })
            .await?
            .into_inner(),
        Notice::Verify {
            notice: id,
            comment,
        } => client
            .verify_rectification(pb::VerifyRectificationRequest {
                request_id: request_id(),
                notice: notice(&id),
                etag: String::new(),
                comment,
            })
            .await?
            .into_inner(),
        Notice::Reopen {
            notice: id,
            reason,
            within,
        } => client
            .reopen_rectification(pb::ReopenRectificationRequest {
                request_id: request_id(),
                notice: notice(&id),
                etag: String::new(),
                reason,
                time_limit: Some(within.to_proto()),
                due_time: None,
            })
            .await?
            .into_inner(),
    };
    match format {
        Format::Json => crate::out!(
            "{}",
            output::json(&n, "procedo.compliance.v1.RectificationNotice")?
        ),
        Format::Table => {
            output::table(NOTICE_HEADERS, &[notice_row(&n)]);
            crate::out!();
            output::table(
                &["STEP", "BY", "WHEN", "DETAIL"],
                &n.history
                    .iter()
                    .map(|e| {
                        vec![
                            e.action.clone(),
                            e.actor
                                .as_ref()
                                .map(|a| a.subject.clone())
                                .unwrap_or_default(),
                            time(e.time.as_ref()),
                            e.detail.clone(),
                        ]
                    })
                    .collect::<Vec<_>>(),
            );
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct FilingsCommand {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: File,
}

#[derive(Debug, Subcommand)]
enum File {
    /// Create an obligation (admins).
    NewObligation {
        /// The regulator filed with.
        #[arg(long)]
        regulator: String,
        /// What is filed, e.g. the quarterly capital report.
        #[arg(long)]
        subject: String,
        /// How often a filing is owed.
        #[arg(long, value_parser = ["monthly", "quarterly", "yearly", "one-off"])]
        recurrence: String,
        /// The subject of the person who submits.
        #[arg(long)]
        responsible: String,
        /// The department responsible.
        #[arg(long, default_value = "")]
        department: String,
        /// Who else is told when a filing is overdue (a subject).
        #[arg(long, default_value = "")]
        escalate_to: String,
        /// How long before the due time a filing is upcoming, e.g. 5days.
        #[arg(long, value_parser = humantime::parse_duration)]
        lead_time: std::time::Duration,
        /// Recurring: how long after a period's end its filing is due.
        #[arg(long, value_parser = humantime::parse_duration)]
        due_after: Option<std::time::Duration>,
        /// Recurring: a time in the first period (YYYY-MM-DD).
        #[arg(long, value_parser = parse_time)]
        first_period: Option<prost_types::Timestamp>,
        /// One-off: when the filing is due.
        #[arg(long, value_parser = parse_time)]
        due: Option<prost_types::Timestamp>,
    },
    /// Obligations, newest first.
    Obligations,
    /// Retire an obligation (admins).
    Retire {
        /// The obligation (obligations/{id}).
        obligation: String,
    },
    /// Filings, soonest due first: all (auditors), else your own.
    List {
        /// Only filings due soon (within their lead time).
        #[arg(long, conflicts_with = "overdue")]
        upcoming: bool,
        /// Only filings past their due time.
        #[arg(long)]
        overdue: bool,
    },
    /// Show one filing.
    Get {
        /// The filing (filings/{id}).
        filing: String,
    },
    /// Record the submission to the regulator (the responsible person).
    Submit {
        /// The filing (filings/{id}).
        filing: String,
        /// A document id that was sent; repeat.
        #[arg(long = "document", required = true)]
        documents: Vec<String>,
        /// The regulator's reference (receipt number).
        #[arg(long)]
        reference: String,
        /// Notes kept with the submission.
        #[arg(long, default_value = "")]
        notes: String,
    },
    /// Show one obligation.
    Obligation {
        /// The obligation (obligations/{id}).
        obligation: String,
    },
}

fn duration(d: std::time::Duration) -> prost_types::Duration {
    procedo_platform::time::to_proto_duration(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn filing_row(f: &pb::Filing) -> Vec<String> {
    let deadline = f.deadline.clone().unwrap_or_default();
    vec![
        f.name.clone(),
        f.regulator.clone(),
        f.subject.clone(),
        f.period.clone(),
        short(
            pb::FilingStatus::try_from(f.status)
                .ok()
                .map(|s| s.as_str_name()),
            "FILING_STATUS_",
        ),
        time(deadline.due_time.as_ref()),
        if deadline.overdue { "yes" } else { "" }.to_owned(),
        f.responsible.clone(),
        f.regulator_reference.clone(),
    ]
}

const FILING_HEADERS: &[&str] = &[
    "FILING",
    "REGULATOR",
    "SUBJECT",
    "PERIOD",
    "STATUS",
    "DUE",
    "OVERDUE",
    "RESPONSIBLE",
    "REFERENCE",
];

fn obligation_row(o: &pb::Obligation) -> Vec<String> {
    vec![
        o.name.clone(),
        o.regulator.clone(),
        o.subject.clone(),
        short(
            pb::Recurrence::try_from(o.recurrence)
                .ok()
                .map(|r| r.as_str_name()),
            "RECURRENCE_",
        ),
        o.responsible.clone(),
        if o.active { "yes" } else { "retired" }.to_owned(),
    ]
}

const OBLIGATION_HEADERS: &[&str] = &[
    "OBLIGATION",
    "REGULATOR",
    "SUBJECT",
    "RECURRENCE",
    "RESPONSIBLE",
    "ACTIVE",
];

pub async fn filings(command: FilingsCommand) -> anyhow::Result<()> {
    let connection = command.connection;
    let format = connection.output;
    let mut client = FilingServiceClient::with_interceptor(
        connection.channel(COMPLIANCE).await?,
        connection.auth(),
    );
    match command.action {
        File::Obligation { obligation } => {
            let found = client
                .get_obligation(pb::GetObligationRequest {
                    name: named("obligations", &obligation),
                })
                .await?
                .into_inner();
            output::show(format, &found, "procedo.compliance.v1.Obligation")
        }
        File::NewObligation {
            regulator,
            subject,
            recurrence,
            responsible,
            department,
            escalate_to,
            lead_time,
            due_after,
            first_period,
            due,
        } => {
            let recurrence = match recurrence.as_str() {
                "monthly" => pb::Recurrence::Monthly,
                "quarterly" => pb::Recurrence::Quarterly,
                "yearly" => pb::Recurrence::Yearly,
                _ => pb::Recurrence::OneOff,
            };
            let o = client
                .create_obligation(pb::CreateObligationRequest {
                    request_id: request_id(),
                    regulator,
                    subject,
                    recurrence: recurrence as i32,
                    responsible,
                    department,
                    escalate_to,
                    lead_time: Some(duration(lead_time)),
                    due_after: due_after.map(duration),
                    first_period_time: first_period,
                    due_time: due,
                })
                .await?
                .into_inner();
            output::listing(
                format,
                &o,
                "procedo.compliance.v1.Obligation",
                OBLIGATION_HEADERS,
                || vec![obligation_row(&o)],
            )
        }
        File::Obligations => {
            let request = pb::ListObligationsRequest {
                ..Default::default()
            };
            let obligations =
                crate::list_all!(client, list_obligations, request, obligations).await?;
            let list = pb::ListObligationsResponse {
                obligations,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListObligationsResponse",
                OBLIGATION_HEADERS,
                || list.obligations.iter().map(obligation_row).collect(),
            )
        }
        File::Retire { obligation } => {
            let o = client
                .retire_obligation(pb::RetireObligationRequest {
                    request_id: request_id(),
                    name: named("obligations", &obligation),
                    etag: String::new(),
                })
                .await?
                .into_inner();
            output::listing(
                format,
                &o,
                "procedo.compliance.v1.Obligation",
                OBLIGATION_HEADERS,
                || vec![obligation_row(&o)],
            )
        }
        File::List { upcoming, overdue } => {
            let request = pb::ListFilingsRequest {
                upcoming_only: upcoming,
                overdue_only: overdue,
                ..Default::default()
            };
            let filings = crate::list_all!(client, list_filings, request, filings).await?;
            let list = pb::ListFilingsResponse {
                filings,
                ..Default::default()
            };
            output::listing(
                format,
                &list,
                "procedo.compliance.v1.ListFilingsResponse",
                FILING_HEADERS,
                || list.filings.iter().map(filing_row).collect(),
            )
        }
        File::Get { filing } => {
            let f = client
                .get_filing(pb::GetFilingRequest {
                    name: named("filings", &filing),
                })
                .await?
                .into_inner();
            output::listing(
                format,
                &f,
                "procedo.compliance.v1.Filing",
                FILING_HEADERS,
                || vec![filing_row(&f)],
            )
        }
        File::Submit {
            filing,
            documents: sent,
            reference,
            notes,
        } => {
            let f = client
                .submit_filing(pb::SubmitFilingRequest {
                    request_id: request_id(),
                    name: named("filings", &filing),
                    etag: String::new(),
                    documents: documents(&sent),
                    regulator_reference: reference,
                    notes,
                })
                .await?
                .into_inner();
            output::listing(
                format,
                &f,
                "procedo.compliance.v1.Filing",
                FILING_HEADERS,
                || vec![filing_row(&f)],
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_and_names_read_as_written() {
        let item = parse_item("Ledger kept daily | §5.1.2").expect("an item");
        assert_eq!(
            (item.criterion.as_str(), item.clause.as_str()),
            ("Ledger kept daily", "§5.1.2")
        );
        assert_eq!(parse_item("No clause").expect("an item").clause, "");
        assert_eq!(named("findings", "abc"), "findings/abc");
        assert_eq!(named("findings", "findings/abc"), "findings/abc");
        assert!(parse_scope("process").is_ok() && parse_scope("x").is_err());
    }
}
