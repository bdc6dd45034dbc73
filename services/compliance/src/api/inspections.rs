//! `procedo.compliance.v1.InspectionService`: auditors run inspections;
//! department heads read their department's.

use procedo_platform::auth::{authorize, bearer};
use procedo_platform::identity::Role;
use procedo_platform::mutation::Call;
use procedo_platform::paging::Page;
use procedo_platform::person::Person;
use procedo_platform::time::{to_timestamp, to_timestamp_opt};
use procedo_platform::validate::Violations;
use procedo_proto::compliance as pb;
use tonic::{Request, Response, Status};

use super::history_to_pb;
use crate::app::{App, Checklist, FindingRequest, InspectionRequest};
use crate::domain::inspection::{
    CandidateStatus, CheckKind, Finding, FindingStatus, Inspection, ItemSpec, Mark, Plan, Scope,
    Severity, Source, Status as InspectionStatus, Template, valid_clause, valid_resource,
};
use crate::store::{FindingFilter, InspectionFilter};

/// Who runs inspections (admins always may).
const AUDITORS: &[Role] = &[Role::Auditor];
/// Who reads them: auditors, and department heads their department's.
const READERS: &[Role] = &[Role::Auditor, Role::DepartmentHead];

const MAX_ITEMS: usize = 200;
const MAX_EVIDENCE: usize = 50;
const MAX_SAMPLE: i32 = 100;

#[derive(Debug, Clone)]
pub struct InspectionApi {
    app: App,
}

impl InspectionApi {
    pub fn new(app: App) -> InspectionApi {
        InspectionApi { app }
    }
}

pub fn scope_to_pb(s: Scope) -> i32 {
    (match s {
        Scope::ProcessCompliance => pb::InspectionScope::ProcessCompliance,
        Scope::DocumentManagement => pb::InspectionScope::DocumentManagement,
        Scope::Communication => pb::InspectionScope::Communication,
    }) as i32
}

fn scope_of(field: &str, value: i32, v: &mut Violations) -> Option<Scope> {
    match pb::InspectionScope::try_from(value) {
        Ok(pb::InspectionScope::ProcessCompliance) => Some(Scope::ProcessCompliance),
        Ok(pb::InspectionScope::DocumentManagement) => Some(Scope::DocumentManagement),
        Ok(pb::InspectionScope::Communication) => Some(Scope::Communication),
        _ => {
            v.add(
                field,
                "must be INSPECTION_SCOPE_PROCESS_COMPLIANCE, _DOCUMENT_MANAGEMENT or _COMMUNICATION",
            );
            None
        }
    }
}

fn item_spec_pb(i: &ItemSpec) -> pb::ChecklistItemSpec {
    pb::ChecklistItemSpec {
        criterion: i.criterion.clone(),
        clause: i.clause.clone(),
    }
}

fn template_to_pb(t: &Template) -> pb::ChecklistTemplate {
    pb::ChecklistTemplate {
        name: t.resource(),
        title: t.title.clone(),
        scope: scope_to_pb(t.scope),
        items: t.items.iter().map(item_spec_pb).collect(),
        creator: Some(t.creator.to_proto()),
        create_time: Some(to_timestamp(t.created_at)),
    }
}

fn plan_to_pb(p: &Plan) -> pb::InspectionPlan {
    pb::InspectionPlan {
        name: p.resource(),
        title: p.title.clone(),
        start_time: Some(to_timestamp(p.start)),
        end_time: Some(to_timestamp(p.end)),
        scopes: p.scopes.iter().map(|s| scope_to_pb(*s)).collect(),
        departments: p.departments.clone(),
        inspectors: p.inspectors.clone(),
        creator: Some(p.creator.to_proto()),
        create_time: Some(to_timestamp(p.created_at)),
    }
}

fn source_to_pb(s: Source) -> i32 {
    (match s {
        Source::IntakeLedger => pb::SampleSource::IntakeLedger,
        Source::WorkflowInstances => pb::SampleSource::WorkflowInstances,
        Source::Documents => pb::SampleSource::Documents,
    }) as i32
}

fn check_to_pb(c: CheckKind) -> i32 {
    (match c {
        CheckKind::TaskOverdue => pb::CheckKind::TaskOverdue,
        CheckKind::InquiryLate => pb::CheckKind::InquiryLate,
        CheckKind::ApplicationOverdue => pb::CheckKind::ApplicationOverdue,
        CheckKind::ApprovedNotSigned => pb::CheckKind::ApprovedNotSigned,
        CheckKind::LoanOverdue => pb::CheckKind::LoanOverdue,
        CheckKind::IntegrityMismatch => pb::CheckKind::IntegrityMismatch,
    }) as i32
}

fn mark_to_pb(m: Mark) -> i32 {
    (match m {
        Mark::Unmarked => pb::ChecklistResult::Unmarked,
        Mark::Conforming => pb::ChecklistResult::Conforming,
        Mark::Nonconforming => pb::ChecklistResult::Nonconforming,
        Mark::NotApplicable => pb::ChecklistResult::NotApplicable,
    }) as i32
}

pub fn inspection_to_pb(i: &Inspection) -> pb::Inspection {
    pb::Inspection {
        name: i.resource(),
        plan: if i.plan_id.is_empty() {
            String::new()
        } else {
            format!("inspectionPlans/{}", i.plan_id)
        },
        title: i.title.clone(),
        scope: scope_to_pb(i.scope),
        department: i.department.clone(),
        start_time: Some(to_timestamp(i.start)),
        end_time: Some(to_timestamp(i.end)),
        inspectors: i.inspectors.clone(),
        status: (match i.status {
            InspectionStatus::Open => pb::InspectionStatus::Open,
            InspectionStatus::Completed => pb::InspectionStatus::Completed,
        }) as i32,
        checklist: i
            .checklist
            .iter()
            .map(|item| pb::ChecklistItem {
                id: item.id.clone(),
                criterion: item.criterion.clone(),
                clause: item.clause.clone(),
                result: mark_to_pb(item.mark),
                notes: item.notes.clone(),
                evidence: item.evidence.clone(),
                marked_by: item.marked_by.as_ref().map(Person::to_proto),
                mark_time: to_timestamp_opt(item.marked_at),
            })
            .collect(),
        samples: i
            .samples
            .iter()
            .map(|s| pb::Sample {
                source: source_to_pb(s.source),
                resource: s.resource.clone(),
                label: s.label.clone(),
                draw_time: Some(to_timestamp(s.drawn_at)),
            })
            .collect(),
        candidates: i
            .candidates
            .iter()
            .map(|c| pb::CandidateFinding {
                id: c.id.clone(),
                check: check_to_pb(c.check),
                resources: c.resources.clone(),
                clause: c.clause.clone(),
                evidence: c.evidence.clone(),
                occur_time: Some(to_timestamp(c.occurred_at)),
                status: (match c.status {
                    CandidateStatus::Proposed => pb::CandidateStatus::Proposed,
                    CandidateStatus::Accepted => pb::CandidateStatus::Accepted,
                    CandidateStatus::Dismissed => pb::CandidateStatus::Dismissed,
                }) as i32,
                finding: c.finding.clone(),
                dismiss_reason: c.dismiss_reason.clone(),
            })
            .collect(),
        findings: i.findings.clone(),
        history: i
            .history
            .iter()
            .map(|e| {
                let (action, detail, actor, time) = history_to_pb(e);
                pb::InspectionEntry {
                    action,
                    detail,
                    actor,
                    time,
                }
            })
            .collect(),
        create_time: Some(to_timestamp(i.created_at)),
        etag: procedo_platform::etag::of(i.row_version),
    }
}

fn severity_to_pb(s: Severity) -> i32 {
    (match s {
        Severity::Minor => pb::Severity::Minor,
        Severity::Major => pb::Severity::Major,
        Severity::Critical => pb::Severity::Critical,
    }) as i32
}

pub fn finding_status_to_pb(s: FindingStatus) -> i32 {
    (match s {
        FindingStatus::Open => pb::FindingStatus::Open,
        FindingStatus::Rectifying => pb::FindingStatus::Rectifying,
        FindingStatus::Closed => pb::FindingStatus::Closed,
    }) as i32
}

pub fn finding_to_pb(f: &Finding) -> pb::Finding {
    pb::Finding {
        name: f.resource(),
        inspection: format!("inspections/{}", f.inspection_id),
        department: f.department.clone(),
        severity: severity_to_pb(f.severity),
        clause: f.clause.clone(),
        resources: f.resources.clone(),
        description: f.description.clone(),
        evidence: f.evidence.clone(),
        candidate: f.candidate.clone(),
        status: finding_status_to_pb(f.status),
        notice: if f.notice_id.is_empty() {
            String::new()
        } else {
            format!("rectificationNotices/{}", f.notice_id)
        },
        recorder: Some(f.recorder.to_proto()),
        create_time: Some(to_timestamp(f.created_at)),
    }
}

fn items_of(items: &[pb::ChecklistItemSpec], v: &mut Violations) -> Vec<ItemSpec> {
    if items.len() > MAX_ITEMS {
        v.add("checklist", format!("at most {MAX_ITEMS} items"));
        return Vec::new();
    }
    items
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let clause = v.optional_line(&format!("checklist[{n}].clause"), &i.clause, 20);
            if !clause.is_empty() && !valid_clause(&clause) {
                v.add(
                    format!("checklist[{n}].clause"),
                    "must be \"§\" and the clause's number, e.g. \"§4.2.1\"",
                );
            }
            ItemSpec {
                criterion: v.required_text(
                    &format!("checklist[{n}].criterion"),
                    &i.criterion,
                    2_000,
                ),
                clause,
            }
        })
        .collect()
}

/// `documents/{uuid}` references, at most [`MAX_EVIDENCE`].
pub fn evidence_of(field: &str, refs: &[String], v: &mut Violations) -> Vec<String> {
    if refs.len() > MAX_EVIDENCE {
        v.add(field, format!("at most {MAX_EVIDENCE} references"));
        return Vec::new();
    }
    refs.iter()
        .enumerate()
        .map(|(n, r)| {
            let id = v.resource_id(&format!("{field}[{n}]"), "documents", r);
            format!("documents/{id}")
        })
        .collect()
}

fn period_of(
    start: Option<&prost_types::Timestamp>,
    end: Option<&prost_types::Timestamp>,
    v: &mut Violations,
) -> Option<(i64, i64)> {
    let start_ms = v.time_opt("start_time", start);
    let end_ms = v.time_opt("end_time", end);
    match (start_ms, end_ms) {
        (Some(s), Some(e)) if e > s => Some((s, e)),
        (Some(_), Some(_)) => {
            v.add("end_time", "must be after start_time");
            None
        }
        (None, None) if start.is_none() && end.is_none() => None,
        _ => {
            if start.is_none() {
                v.add("start_time", "is required with end_time");
            }
            if end.is_none() {
                v.add("end_time", "is required with start_time");
            }
            None
        }
    }
}

fn names(field: &str, values: &[String], max: usize, v: &mut Violations) -> Vec<String> {
    if values.len() > max {
        v.add(field, format!("at most {max}"));
    }
    let mut out: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(n, s)| v.required_line(&format!("{field}[{n}]"), s, 200))
        .collect();
    out.dedup();
    out
}

struct Change {
    call: Call,
    id: String,
    etag: String,
}

/// The call, inspection id and etag of a change request.
fn change(
    scope: &'static str,
    actor: procedo_platform::identity::Actor,
    request_id: &str,
    request: &impl prost::Message,
    inspection: &str,
    etag: &str,
    v: &mut Violations,
) -> Change {
    Change {
        call: Call::new(scope, actor, v.request_id(request_id, request)),
        id: v.resource_id("inspection", "inspections", inspection),
        etag: etag.to_owned(),
    }
}

#[tonic::async_trait]
impl pb::inspection_service_server::InspectionService for InspectionApi {
    async fn create_checklist_template(
        &self,
        r: Request<pb::CreateChecklistTemplateRequest>,
    ) -> Result<Response<pb::ChecklistTemplate>, Status> {
        let actor = authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new(
            "CreateChecklistTemplate",
            actor,
            v.request_id(&r.request_id, &r),
        );
        let title = v.required_line("title", &r.title, 200);
        let scope = scope_of("scope", r.scope, &mut v);
        if r.items.is_empty() {
            v.add("items", "give at least one item");
        }
        let items = items_of(&r.items, &mut v);
        v.finish()?;
        let scope = scope.ok_or_else(|| Status::invalid_argument("scope"))?;
        Ok(Response::new(
            self.app
                .create_template(&call, title, scope, items, template_to_pb)
                .await?,
        ))
    }

    async fn get_checklist_template(
        &self,
        r: Request<pb::GetChecklistTemplateRequest>,
    ) -> Result<Response<pb::ChecklistTemplate>, Status> {
        authorize(&r, AUDITORS)?;
        let mut v = Violations::new();
        let id = v.resource_id("name", "checklistTemplates", &r.get_ref().name);
        v.finish()?;
        Ok(Response::new(template_to_pb(
            &self.app.template(&id).await?,
        )))
    }

    async fn list_checklist_templates(
        &self,
        r: Request<pb::ListChecklistTemplatesRequest>,
    ) -> Result<Response<pb::ListChecklistTemplatesResponse>, Status> {
        authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        let scope = (r.scope != 0)
            .then(|| scope_of("scope", r.scope, &mut v))
            .flatten();
        v.finish()?;
        let (templates, next_page_token) = self.app.templates(scope, &page).await?;
        Ok(Response::new(pb::ListChecklistTemplatesResponse {
            templates: templates.iter().map(template_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn create_inspection_plan(
        &self,
        r: Request<pb::CreateInspectionPlanRequest>,
    ) -> Result<Response<pb::InspectionPlan>, Status> {
        let actor = authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new(
            "CreateInspectionPlan",
            actor,
            v.request_id(&r.request_id, &r),
        );
        let title = v.required_line("title", &r.title, 200);
        let period = period_of(r.start_time.as_ref(), r.end_time.as_ref(), &mut v);
        if period.is_none() && r.start_time.is_none() && r.end_time.is_none() {
            v.add("start_time", "is required: the period inspected");
        }
        if r.scopes.is_empty() {
            v.add("scopes", "give at least one");
        }
        let mut scopes: Vec<Scope> = r
            .scopes
            .iter()
            .enumerate()
            .filter_map(|(n, s)| scope_of(&format!("scopes[{n}]"), *s, &mut v))
            .collect();
        scopes.dedup();
        if r.departments.is_empty() {
            v.add("departments", "give at least one");
        }
        let departments = names("departments", &r.departments, 100, &mut v);
        if r.inspectors.is_empty() {
            v.add("inspectors", "give at least one (their subjects)");
        }
        let inspectors = names("inspectors", &r.inspectors, 50, &mut v);
        v.finish()?;
        let period = period.ok_or_else(|| Status::invalid_argument("start_time"))?;
        Ok(Response::new(
            self.app
                .create_plan(
                    &call,
                    title,
                    period,
                    scopes,
                    departments,
                    inspectors,
                    plan_to_pb,
                )
                .await?,
        ))
    }

    async fn get_inspection_plan(
        &self,
        r: Request<pb::GetInspectionPlanRequest>,
    ) -> Result<Response<pb::InspectionPlan>, Status> {
        authorize(&r, AUDITORS)?;
        let mut v = Violations::new();
        let id = v.resource_id("name", "inspectionPlans", &r.get_ref().name);
        v.finish()?;
        Ok(Response::new(plan_to_pb(&self.app.plan(&id).await?)))
    }

    async fn list_inspection_plans(
        &self,
        r: Request<pb::ListInspectionPlansRequest>,
    ) -> Result<Response<pb::ListInspectionPlansResponse>, Status> {
        authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        v.finish()?;
        let (plans, next_page_token) = self.app.plans(&page).await?;
        Ok(Response::new(pb::ListInspectionPlansResponse {
            plans: plans.iter().map(plan_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn create_inspection(
        &self,
        r: Request<pb::CreateInspectionRequest>,
    ) -> Result<Response<pb::Inspection>, Status> {
        let actor = authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("CreateInspection", actor, v.request_id(&r.request_id, &r));
        let plan_id = v.optional_resource_id("plan", "inspectionPlans", &r.plan);
        let title = v.required_line("title", &r.title, 200);
        let scope = scope_of("scope", r.scope, &mut v);
        let department = v.required_line("department", &r.department, 200);
        let period = period_of(r.start_time.as_ref(), r.end_time.as_ref(), &mut v);
        if period.is_none() && plan_id.is_empty() && r.start_time.is_none() && r.end_time.is_none()
        {
            v.add(
                "start_time",
                "is required (or a plan that gives the period)",
            );
        }
        let inspectors = names("inspectors", &r.inspectors, 50, &mut v);
        let checklist = match (r.checklist_template.is_empty(), r.checklist.is_empty()) {
            (false, true) => Checklist::Template(v.resource_id(
                "checklist_template",
                "checklistTemplates",
                &r.checklist_template,
            )),
            (true, false) => Checklist::Items(items_of(&r.checklist, &mut v)),
            _ => {
                v.add(
                    "checklist",
                    "give a checklist_template or checklist items (one of them)",
                );
                Checklist::Items(Vec::new())
            }
        };
        v.finish()?;
        let scope = scope.ok_or_else(|| Status::invalid_argument("scope"))?;
        let request = InspectionRequest {
            plan_id,
            title,
            scope,
            department,
            period,
            inspectors,
            checklist,
        };
        Ok(Response::new(
            self.app
                .create_inspection(&call, request, inspection_to_pb)
                .await?,
        ))
    }

    async fn get_inspection(
        &self,
        r: Request<pb::GetInspectionRequest>,
    ) -> Result<Response<pb::Inspection>, Status> {
        let actor = authorize(&r, READERS)?;
        let mut v = Violations::new();
        let id = v.resource_id("name", "inspections", &r.get_ref().name);
        v.finish()?;
        Ok(Response::new(inspection_to_pb(
            &self.app.inspection(&actor, &id).await?,
        )))
    }

    async fn list_inspections(
        &self,
        r: Request<pb::ListInspectionsRequest>,
    ) -> Result<Response<pb::ListInspectionsResponse>, Status> {
        let actor = authorize(&r, READERS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        let filter = InspectionFilter {
            plan_id: v.optional_resource_id("plan", "inspectionPlans", &r.plan),
            department: v.optional_line("department", &r.department, 200),
            status: match pb::InspectionStatus::try_from(r.status) {
                Ok(pb::InspectionStatus::Unspecified) => String::new(),
                Ok(pb::InspectionStatus::Open) => InspectionStatus::Open.as_str().to_owned(),
                Ok(pb::InspectionStatus::Completed) => {
                    InspectionStatus::Completed.as_str().to_owned()
                }
                Err(_) => {
                    v.add("status", "is not an InspectionStatus");
                    String::new()
                }
            },
        };
        v.finish()?;
        let (inspections, next_page_token) = self.app.inspections(&actor, filter, &page).await?;
        Ok(Response::new(pb::ListInspectionsResponse {
            inspections: inspections.iter().map(inspection_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn draw_samples(
        &self,
        r: Request<pb::DrawSamplesRequest>,
    ) -> Result<Response<pb::Inspection>, Status> {
        let actor = authorize(&r, AUDITORS)?;
        let bearer = bearer(&r);
        let r = r.into_inner();
        let mut v = Violations::new();
        let c = change(
            "DrawSamples",
            actor,
            &r.request_id,
            &r,
            &r.inspection,
            &r.etag,
            &mut v,
        );
        if r.sizes.is_empty() {
            v.add("sizes", "give at least one source and count");
        }
        let mut sizes: Vec<(Source, usize)> = Vec::new();
        for (n, s) in r.sizes.iter().enumerate() {
            let source = match pb::SampleSource::try_from(s.source) {
                Ok(pb::SampleSource::IntakeLedger) => Some(Source::IntakeLedger),
                Ok(pb::SampleSource::WorkflowInstances) => Some(Source::WorkflowInstances),
                Ok(pb::SampleSource::Documents) => Some(Source::Documents),
                _ => {
                    v.add(
                        format!("sizes[{n}].source"),
                        "must be SAMPLE_SOURCE_INTAKE_LEDGER, _WORKFLOW_INSTANCES or _DOCUMENTS",
                    );
                    None
                }
            };
            if !(1..=MAX_SAMPLE).contains(&s.count) {
                v.add(
                    format!("sizes[{n}].count"),
                    format!("must be 1 to {MAX_SAMPLE}"),
                );
            }
            if let Some(source) = source {
                if sizes.iter().any(|(known, _)| *known == source) {
                    v.add(format!("sizes[{n}].source"), "is given twice");
                }
                sizes.push((source, usize::try_from(s.count).unwrap_or(0)));
            }
        }
        v.finish()?;
        let call = c.call.on_behalf(bearer);
        Ok(Response::new(
            self.app
                .draw_samples(&call, &c.id, &c.etag, sizes, inspection_to_pb)
                .await?,
        ))
    }

    async fn run_checks(
        &self,
        r: Request<pb::RunChecksRequest>,
    ) -> Result<Response<pb::Inspection>, Status> {
        let actor = authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let c = change(
            "RunChecks",
            actor,
            &r.request_id,
            &r,
            &r.inspection,
            &r.etag,
            &mut v,
        );
        v.finish()?;
        Ok(Response::new(
            self.app
                .run_checks(&c.call, &c.id, &c.etag, inspection_to_pb)
                .await?,
        ))
    }

    async fn mark_checklist_item(
        &self,
        r: Request<pb::MarkChecklistItemRequest>,
    ) -> Result<Response<pb::Inspection>, Status> {
        let actor = authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let c = change(
            "MarkChecklistItem",
            actor,
            &r.request_id,
            &r,
            &r.inspection,
            &r.etag,
            &mut v,
        );
        let item = v.required_line("item", &r.item, 10);
        let mark = match pb::ChecklistResult::try_from(r.result) {
            Ok(pb::ChecklistResult::Conforming) => Mark::Conforming,
            Ok(pb::ChecklistResult::Nonconforming) => Mark::Nonconforming,
            Ok(pb::ChecklistResult::NotApplicable) => Mark::NotApplicable,
            _ => {
                v.add(
                    "result",
                    "must be CHECKLIST_RESULT_CONFORMING, _NONCONFORMING or _NOT_APPLICABLE",
                );
                Mark::Unmarked
            }
        };
        let notes = v.optional_text("notes", &r.notes, 4_000);
        let evidence = evidence_of("evidence", &r.evidence, &mut v);
        v.finish()?;
        Ok(Response::new(
            self.app
                .mark_item(
                    &c.call,
                    &c.id,
                    &c.etag,
                    &item,
                    mark,
                    notes,
                    evidence,
                    inspection_to_pb,
                )
                .await?,
        ))
    }

    async fn record_finding(
        &self,
        r: Request<pb::RecordFindingRequest>,
    ) -> Result<Response<pb::Finding>, Status> {
        let actor = authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let c = change(
            "RecordFinding",
            actor,
            &r.request_id,
            &r,
            &r.inspection,
            &r.etag,
            &mut v,
        );
        let candidate = v.optional_line("candidate", &r.candidate, 10);
        let severity = match pb::Severity::try_from(r.severity) {
            Ok(pb::Severity::Minor) => Severity::Minor,
            Ok(pb::Severity::Major) => Severity::Major,
            Ok(pb::Severity::Critical) => Severity::Critical,
            _ => {
                v.add("severity", "must be SEVERITY_MINOR, _MAJOR or _CRITICAL");
                Severity::Minor
            }
        };
        let clause = v.required_line("clause", &r.clause, 20);
        if !clause.is_empty() && !valid_clause(&clause) {
            v.add(
                "clause",
                "must be \"§\" and the clause's number, e.g. \"§4.2.1\"",
            );
        }
        if r.resources.len() > 100 {
            v.add("resources", "at most 100");
        }
        let mut resources = Vec::with_capacity(r.resources.len());
        for (n, res) in r.resources.iter().enumerate() {
            if valid_resource(res) {
                resources.push(res.clone());
            } else {
                v.add(
                    format!("resources[{n}]"),
                    "must name a record, \"collection/id\" (e.g. \"applications/…\")",
                );
            }
        }
        if resources.is_empty() && candidate.is_empty() && r.resources.is_empty() {
            v.add("resources", "name the records involved (or a candidate)");
        }
        let description = v.required_text("description", &r.description, 4_000);
        let evidence = evidence_of("evidence", &r.evidence, &mut v);
        v.finish()?;
        let request = FindingRequest {
            candidate,
            severity,
            clause,
            resources,
            description,
            evidence,
        };
        Ok(Response::new(
            self.app
                .record_finding(&c.call, &c.id, &c.etag, request, finding_to_pb)
                .await?,
        ))
    }

    async fn dismiss_candidate(
        &self,
        r: Request<pb::DismissCandidateRequest>,
    ) -> Result<Response<pb::Inspection>, Status> {
        let actor = authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let c = change(
            "DismissCandidate",
            actor,
            &r.request_id,
            &r,
            &r.inspection,
            &r.etag,
            &mut v,
        );
        let candidate = v.required_line("candidate", &r.candidate, 10);
        let reason = v.required_text("reason", &r.reason, 2_000);
        v.finish()?;
        Ok(Response::new(
            self.app
                .dismiss_candidate(
                    &c.call,
                    &c.id,
                    &c.etag,
                    &candidate,
                    reason,
                    inspection_to_pb,
                )
                .await?,
        ))
    }

    async fn complete_inspection(
        &self,
        r: Request<pb::CompleteInspectionRequest>,
    ) -> Result<Response<pb::Inspection>, Status> {
        let actor = authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let c = change(
            "CompleteInspection",
            actor,
            &r.request_id,
            &r,
            &r.inspection,
            &r.etag,
            &mut v,
        );
        v.finish()?;
        Ok(Response::new(
            self.app
                .complete_inspection(&c.call, &c.id, &c.etag, inspection_to_pb)
                .await?,
        ))
    }

    async fn get_finding(
        &self,
        r: Request<pb::GetFindingRequest>,
    ) -> Result<Response<pb::Finding>, Status> {
        let actor = authorize(&r, READERS)?;
        let mut v = Violations::new();
        let id = v.resource_id("name", "findings", &r.get_ref().name);
        v.finish()?;
        Ok(Response::new(finding_to_pb(
            &self.app.finding(&actor, &id).await?,
        )))
    }

    async fn list_findings(
        &self,
        r: Request<pb::ListFindingsRequest>,
    ) -> Result<Response<pb::ListFindingsResponse>, Status> {
        let actor = authorize(&r, READERS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        let filter = FindingFilter {
            inspection_id: v.optional_resource_id("inspection", "inspections", &r.inspection),
            department: v.optional_line("department", &r.department, 200),
            status: match pb::FindingStatus::try_from(r.status) {
                Ok(pb::FindingStatus::Unspecified) => None,
                Ok(pb::FindingStatus::Open) => Some(FindingStatus::Open),
                Ok(pb::FindingStatus::Rectifying) => Some(FindingStatus::Rectifying),
                Ok(pb::FindingStatus::Closed) => Some(FindingStatus::Closed),
                Err(_) => {
                    v.add("status", "is not a FindingStatus");
                    None
                }
            },
        };
        v.finish()?;
        let (findings, next_page_token) = self.app.findings(&actor, filter, &page).await?;
        Ok(Response::new(pb::ListFindingsResponse {
            findings: findings.iter().map(finding_to_pb).collect(),
            next_page_token,
        }))
    }
}
