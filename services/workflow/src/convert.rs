//! Protobuf ↔ domain for the workflow contracts: the API's requests and
//! responses, and the protobuf forms definitions and matrices are stored
//! in and events are sent in.

use procedo_platform::calendar::Limit;
use procedo_platform::etag;
use procedo_platform::time::{self, Millis, to_timestamp, to_timestamp_opt};
use procedo_platform::validate::Violations;
use procedo_proto::common;
use procedo_proto::workflow as pb;

use crate::domain::definition::{
    Decision, Definition, Draft, DraftStep, DraftTransition, EdgeKind, Owner, Scope, StepKind,
};
use crate::domain::instance::{Form, Instance, InstanceStatus, Participants};
use crate::domain::matrix::{Level, Matrix, Rule};
use crate::domain::task::{Signature, Task, TaskStatus, Work};
use crate::store::{CoordinationRow, HistoryRow, MeetingRow, SupervisionRow};

/// "processDefinitions/{key}" or "processDefinitions/{key}/versions/{n}".
pub fn parse_definition_name(field: &str, name: &str, v: &mut Violations) -> (String, Option<i32>) {
    let rest = name.strip_prefix("processDefinitions/").unwrap_or("");
    let (key, version) = match rest.split_once("/versions/") {
        Some((key, n)) => (key, n.parse::<i32>().ok().filter(|n| *n > 0).map(Some)),
        None => (rest, Some(None)),
    };
    let valid_key = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    match (valid_key, version) {
        (true, Some(version)) => (key.to_owned(), version),
        _ => {
            v.add(
                field,
                "must be \"processDefinitions/<key>\" or \"processDefinitions/<key>/versions/<n>\"",
            );
            (String::new(), None)
        }
    }
}

// ------------------------------------------------------------- enums

pub fn step_kind(k: i32) -> Option<StepKind> {
    match pb::StepKind::try_from(k).ok()? {
        pb::StepKind::Unspecified => None,
        pb::StepKind::Task => Some(StepKind::Task),
        pb::StepKind::Review => Some(StepKind::Review),
        pb::StepKind::Countersign => Some(StepKind::Countersign),
        pb::StepKind::Approval => Some(StepKind::Approval),
        pb::StepKind::Execution => Some(StepKind::Execution),
        pb::StepKind::Acceptance => Some(StepKind::Acceptance),
        pb::StepKind::Rectification => Some(StepKind::Rectification),
    }
}

pub fn step_kind_to_pb(k: StepKind) -> pb::StepKind {
    match k {
        StepKind::Task => pb::StepKind::Task,
        StepKind::Review => pb::StepKind::Review,
        StepKind::Countersign => pb::StepKind::Countersign,
        StepKind::Approval => pb::StepKind::Approval,
        StepKind::Execution => pb::StepKind::Execution,
        StepKind::Acceptance => pb::StepKind::Acceptance,
        StepKind::Rectification => pb::StepKind::Rectification,
    }
}

pub fn decision(d: i32) -> Option<Decision> {
    match pb::Decision::try_from(d).ok()? {
        pb::Decision::Unspecified => None,
        pb::Decision::Complete => Some(Decision::Complete),
        pb::Decision::Approve => Some(Decision::Approve),
        pb::Decision::Reject => Some(Decision::Reject),
        pb::Decision::SendBack => Some(Decision::SendBack),
        pb::Decision::Pass => Some(Decision::Pass),
        pb::Decision::Fail => Some(Decision::Fail),
    }
}

pub fn decision_to_pb(d: Decision) -> pb::Decision {
    match d {
        Decision::Complete => pb::Decision::Complete,
        Decision::Approve => pb::Decision::Approve,
        Decision::Reject => pb::Decision::Reject,
        Decision::SendBack => pb::Decision::SendBack,
        Decision::Pass => pb::Decision::Pass,
        Decision::Fail => pb::Decision::Fail,
    }
}

fn edge_kind(k: i32) -> Option<EdgeKind> {
    match pb::TransitionKind::try_from(k).ok()? {
        pb::TransitionKind::Unspecified => None,
        pb::TransitionKind::Forward => Some(EdgeKind::Forward),
        pb::TransitionKind::SendBack => Some(EdgeKind::SendBack),
        pb::TransitionKind::Rectification => Some(EdgeKind::Rectification),
    }
}

fn edge_kind_to_pb(k: EdgeKind) -> pb::TransitionKind {
    match k {
        EdgeKind::Forward => pb::TransitionKind::Forward,
        EdgeKind::SendBack => pb::TransitionKind::SendBack,
        EdgeKind::Rectification => pb::TransitionKind::Rectification,
    }
}

pub fn instance_status_filter(s: i32, v: &mut Violations) -> Option<InstanceStatus> {
    match pb::InstanceStatus::try_from(s) {
        Ok(pb::InstanceStatus::Unspecified) => None,
        Ok(pb::InstanceStatus::Running) => Some(InstanceStatus::Running),
        Ok(pb::InstanceStatus::Completed) => Some(InstanceStatus::Completed),
        Ok(pb::InstanceStatus::Cancelled) => Some(InstanceStatus::Cancelled),
        Err(_) => {
            v.add("status", format!("{s} is not a known instance status"));
            None
        }
    }
}

pub fn instance_status_to_pb(s: InstanceStatus) -> pb::InstanceStatus {
    match s {
        InstanceStatus::Running => pb::InstanceStatus::Running,
        InstanceStatus::Completed => pb::InstanceStatus::Completed,
        InstanceStatus::Cancelled => pb::InstanceStatus::Cancelled,
    }
}

pub fn task_status_filter(s: i32, v: &mut Violations) -> Option<TaskStatus> {
    match pb::TaskStatus::try_from(s) {
        Ok(pb::TaskStatus::Unspecified) => None,
        Ok(pb::TaskStatus::Open) => Some(TaskStatus::Open),
        Ok(pb::TaskStatus::Completed) => Some(TaskStatus::Completed),
        Ok(pb::TaskStatus::Cancelled) => Some(TaskStatus::Cancelled),
        Err(_) => {
            v.add("status", format!("{s} is not a known task status"));
            None
        }
    }
}

fn task_status_to_pb(s: TaskStatus) -> pb::TaskStatus {
    match s {
        TaskStatus::Open => pb::TaskStatus::Open,
        TaskStatus::Completed => pb::TaskStatus::Completed,
        TaskStatus::Cancelled => pb::TaskStatus::Cancelled,
    }
}

// ------------------------------------------------------------- definitions

/// A client's definition as a draft. Enum values the contract does not
/// know become missing values, which validation names.
pub fn draft(d: &pb::ProcessDefinition) -> Draft {
    Draft {
        key: d.key.trim().to_owned(),
        display_name: d.display_name.clone(),
        start_step: d.start_step.trim().to_owned(),
        steps: d
            .steps
            .iter()
            .map(|s| DraftStep {
                id: s.id.trim().to_owned(),
                name: s.name.clone(),
                kind: step_kind(s.kind),
                owner: s.owner.as_ref().map(|o| Owner {
                    role: o.role.trim().to_owned(),
                    scope: match pb::DepartmentScope::try_from(o.scope) {
                        Ok(pb::DepartmentScope::Fixed) => {
                            Scope::Fixed(o.department.trim().to_owned())
                        }
                        Ok(pb::DepartmentScope::Initiator) => Scope::Initiator,
                        Ok(pb::DepartmentScope::Lead) => Scope::Lead,
                        _ => Scope::Any,
                    },
                }),
                content: s.content.clone(),
                standard: s.standard.clone(),
                time_limit: match (&s.limit, &s.time_limit) {
                    (Some(limit), _) => Limit::from_proto(limit),
                    (None, Some(elapsed)) => time::from_proto_duration(elapsed).map(Limit::Elapsed),
                    (None, None) => None,
                },
                departments: s
                    .departments
                    .iter()
                    .map(|d| d.trim().to_owned())
                    .filter(|d| !d.is_empty())
                    .collect(),
                requires_document: s.requires_document,
            })
            .collect(),
        transitions: d
            .transitions
            .iter()
            .map(|t| DraftTransition {
                from: t.from_step.trim().to_owned(),
                decision: decision(t.decision),
                to: t.to_step.trim().to_owned(),
                kind: edge_kind(t.kind),
            })
            .collect(),
    }
}

/// A validated definition as the contract shows it (also how it is stored).
pub fn definition_to_pb(d: &Definition) -> pb::ProcessDefinition {
    pb::ProcessDefinition {
        name: d.resource(),
        key: d.key.clone(),
        version: d.version,
        display_name: d.display_name.clone(),
        start_step: d.start_step.clone(),
        steps: d
            .steps
            .iter()
            .map(|s| pb::Step {
                id: s.id.clone(),
                name: s.name.clone(),
                kind: step_kind_to_pb(s.kind) as i32,
                owner: Some(pb::Owner {
                    role: s.owner.role.clone(),
                    scope: match &s.owner.scope {
                        Scope::Any => pb::DepartmentScope::Any,
                        Scope::Fixed(_) => pb::DepartmentScope::Fixed,
                        Scope::Initiator => pb::DepartmentScope::Initiator,
                        Scope::Lead => pb::DepartmentScope::Lead,
                    } as i32,
                    department: match &s.owner.scope {
                        Scope::Fixed(d) => d.clone(),
                        _ => String::new(),
                    },
                }),
                content: s.content.clone(),
                standard: s.standard.clone(),
                time_limit: match s.time_limit {
                    Limit::Elapsed(ms) => Some(time::to_proto_duration(ms)),
                    Limit::WorkingTime(_) | Limit::WorkingDays(_) => None,
                },
                limit: Some(s.time_limit.to_proto()),
                departments: s.departments.clone(),
                requires_document: s.requires_document,
            })
            .collect(),
        transitions: d
            .transitions
            .iter()
            .map(|t| pb::Transition {
                from_step: t.from.clone(),
                decision: decision_to_pb(t.decision) as i32,
                to_step: t.to.clone().unwrap_or_default(),
                kind: edge_kind_to_pb(t.kind) as i32,
            })
            .collect(),
        create_time: None,
        deployed_by: None,
    }
}

// ------------------------------------------------------------------ matrix

pub fn matrix(m: &pb::AuthorizationMatrix, effective_at: Millis) -> Matrix {
    Matrix {
        version: 0,
        effective_at,
        currency: m.currency_code.trim().to_owned(),
        levels: m
            .levels
            .iter()
            .map(|l| Level {
                level: l.level,
                name: l.name.trim().to_owned(),
            })
            .collect(),
        rules: m
            .rules
            .iter()
            .map(|r| Rule {
                business_type: r.business_type.trim().to_owned(),
                min: r.min_minor_units,
                max: (r.max_minor_units != 0).then_some(r.max_minor_units),
                levels: r.levels.clone(),
            })
            .collect(),
    }
}

pub fn matrix_to_pb(m: &Matrix, created_at: Millis) -> pb::AuthorizationMatrix {
    pb::AuthorizationMatrix {
        name: format!("authorizationMatrices/{}", m.version),
        version: m.version,
        effective_time: Some(to_timestamp(m.effective_at)),
        currency_code: m.currency.clone(),
        levels: m.levels.iter().map(level_to_pb).collect(),
        rules: m
            .rules
            .iter()
            .map(|r| pb::MatrixRule {
                business_type: r.business_type.clone(),
                min_minor_units: r.min,
                max_minor_units: r.max.unwrap_or(0),
                levels: r.levels.clone(),
            })
            .collect(),
        create_time: Some(to_timestamp(created_at)),
    }
}

pub fn level_to_pb(l: &Level) -> pb::ApprovalLevel {
    pb::ApprovalLevel {
        level: l.level,
        name: l.name.clone(),
    }
}

// --------------------------------------------------------------- instances

pub fn form(f: Option<&pb::InitiationForm>, v: &mut Violations) -> Option<Form> {
    let f = f?;
    Some(Form {
        background: v.optional_text("form.background", &f.background, 10_000),
        goals: v.optional_text("form.goals", &f.goals, 10_000),
        requirements: v.optional_text("form.requirements", &f.requirements, 10_000),
    })
}

/// Departments one participant list names, at most.
pub const MAX_PARTICIPANT_DEPARTMENTS: usize = 100;

fn departments(field: &str, list: &[String], v: &mut Violations) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let list = v.at_most(field, list, MAX_PARTICIPANT_DEPARTMENTS);
    for (i, d) in list.iter().enumerate() {
        let d = v.required_line(&format!("{field}[{i}]"), d, 100);
        if !d.is_empty() && !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

pub fn participants(p: Option<&pb::Participants>, v: &mut Violations) -> Option<Participants> {
    let p = p?;
    Some(Participants {
        review_departments: departments(
            "participants.review_departments",
            &p.review_departments,
            v,
        ),
        lead_department: v.optional_line("participants.lead_department", &p.lead_department, 100),
        supporting_departments: departments(
            "participants.supporting_departments",
            &p.supporting_departments,
            v,
        ),
        acceptance_departments: departments(
            "participants.acceptance_departments",
            &p.acceptance_departments,
            v,
        ),
    })
}

fn signature_to_pb(s: &Signature) -> pb::Signature {
    pb::Signature {
        signer: s.signer.clone(),
        signer_name: s.name.clone(),
        signer_title: s.title.clone(),
        time: Some(to_timestamp(s.at)),
    }
}

fn form_to_pb(f: &Form) -> pb::InitiationForm {
    pb::InitiationForm {
        background: f.background.clone(),
        goals: f.goals.clone(),
        requirements: f.requirements.clone(),
    }
}

pub fn coordination_to_pb(c: &CoordinationRow) -> pb::CoordinationItem {
    pb::CoordinationItem {
        id: c.id.clone(),
        problem: c.problem.clone(),
        responsible_department: c.responsible_department.clone(),
        resolution: c.resolution.clone(),
        resolved: c.resolved,
        raised_by: Some(c.raised_by.to_proto()),
        create_time: Some(to_timestamp(c.created_at)),
        resolve_time: to_timestamp_opt(c.resolved_at),
    }
}

/// The instance with what hangs off it: its tasks, coordination items and
/// supervision records.
#[derive(Debug, Clone)]
pub struct InstanceView {
    pub instance: Instance,
    pub tasks: Vec<Task>,
    pub coordination: Vec<CoordinationRow>,
    pub supervision: Vec<SupervisionRow>,
}

impl InstanceView {
    /// The steps with open tasks, in the order they opened.
    pub fn current_steps(&self) -> Vec<String> {
        let mut steps: Vec<String> = Vec::new();
        for t in self.tasks.iter().filter(|t| t.status == TaskStatus::Open) {
            if !steps.iter().any(|s| s == t.step_id()) {
                steps.push(t.step_id().to_owned());
            }
        }
        steps
    }
}

/// A meeting with its coordination items.
#[derive(Debug, Clone)]
pub struct MeetingView {
    pub meeting: MeetingRow,
    pub coordination: Vec<CoordinationRow>,
}

pub fn meeting_to_pb(view: &MeetingView) -> pb::Meeting {
    let m = &view.meeting;
    pb::Meeting {
        name: format!("meetings/{}", m.id),
        department: m.department.clone(),
        title: m.title.clone(),
        held_time: Some(to_timestamp(m.held_at)),
        attendees: m.attendees.clone(),
        progress: m.progress.clone(),
        problems: m.problems.clone(),
        coordination_items: view.coordination.iter().map(coordination_to_pb).collect(),
        action_items: m
            .action_items
            .iter()
            .map(|a| pb::ActionItem {
                description: a.description.clone(),
                owner: a.owner.clone(),
                due_time: Some(to_timestamp(a.due_at)),
                task: format!("tasks/{}", a.task_id),
            })
            .collect(),
        recorded_by: Some(m.recorded_by.to_proto()),
        create_time: Some(to_timestamp(m.created_at)),
    }
}

pub fn instance_to_pb(view: &InstanceView) -> pb::Instance {
    let i = &view.instance;
    pb::Instance {
        name: i.resource(),
        definition: format!(
            "processDefinitions/{}/versions/{}",
            i.definition_key, i.definition_version
        ),
        business_key: i.business_key.clone(),
        business_type: i.business_type.clone(),
        amount: i.amount.as_ref().map(|m| common::Money {
            currency_code: m.currency.clone(),
            minor_units: m.minor_units,
        }),
        title: i.title.clone(),
        status: instance_status_to_pb(i.status) as i32,
        initiator_department: i.initiator_department.clone(),
        initiator: Some(i.initiator.to_proto()),
        form: Some(form_to_pb(&i.form)),
        participants: Some(pb::Participants {
            review_departments: i.participants.review_departments.clone(),
            lead_department: i.participants.lead_department.clone(),
            supporting_departments: i.participants.supporting_departments.clone(),
            acceptance_departments: i.participants.acceptance_departments.clone(),
        }),
        current_steps: view.current_steps(),
        approval_chain: i.approval_chain.iter().map(level_to_pb).collect(),
        matrix_version: i.matrix_version,
        plan_document: i.plan_document.clone(),
        acceptance_report: i.acceptance_report.clone(),
        acceptance_signatures: i
            .acceptance_signatures
            .iter()
            .map(signature_to_pb)
            .collect(),
        coordination_items: view.coordination.iter().map(coordination_to_pb).collect(),
        supervision_records: view
            .supervision
            .iter()
            .map(|s| pb::SupervisionRecord {
                department: s.department.clone(),
                findings: s.findings.clone(),
                supervisor: Some(s.supervisor.to_proto()),
                time: Some(to_timestamp(s.at)),
            })
            .collect(),
        cancel_reason: i.cancel_reason.clone(),
        create_time: Some(to_timestamp(i.created_at)),
        update_time: Some(to_timestamp(i.updated_at)),
        end_time: to_timestamp_opt(i.ended_at),
        etag: etag::of(i.version),
    }
}

pub fn history_to_pb(h: &HistoryRow) -> pb::HistoryEntry {
    pb::HistoryEntry {
        sequence: h.seq,
        instance: format!("instances/{}", h.instance_id),
        action: h.action.clone(),
        step: h.step.clone(),
        decision: Decision::parse(&h.decision).map_or(0, |d| decision_to_pb(d) as i32),
        opinion: h.opinion.clone(),
        detail: h.detail.clone(),
        actor: Some(h.actor.to_proto()),
        time: Some(to_timestamp(h.at)),
        task: if h.task_id.is_empty() {
            String::new()
        } else {
            format!("tasks/{}", h.task_id)
        },
    }
}

pub fn task_to_pb(t: &Task, now: Millis) -> pb::Task {
    pb::Task {
        name: t.resource(),
        instance: t
            .instance_id()
            .map(|i| format!("instances/{i}"))
            .unwrap_or_default(),
        meeting: match &t.work {
            Work::ActionItem { meeting_id } => format!("meetings/{meeting_id}"),
            Work::Step(_) => String::new(),
        },
        step: t.step_id().to_owned(),
        kind: t.step_work().map_or(0, |w| step_kind_to_pb(w.kind) as i32),
        title: t.title.clone(),
        content: t.content.clone(),
        standard: t.standard.clone(),
        role: t.role.clone(),
        department: t.department.clone(),
        approval_level: t.approval_level,
        assignee: t.assignee.clone(),
        delegated_by: t.delegated_by.clone(),
        status: task_status_to_pb(t.status) as i32,
        due_time: Some(to_timestamp(t.deadline.due)),
        overdue: t.is_overdue(now),
        escalate_time: to_timestamp_opt(t.escalated_at),
        decision: t.decision.map_or(0, |d| decision_to_pb(d) as i32),
        opinion: t.opinion.clone(),
        signature: t.signature.as_ref().map(signature_to_pb),
        document: t.document.clone(),
        requirements: t.requirements.clone(),
        prior_opinions: t.prior_opinions.clone(),
        create_time: Some(to_timestamp(t.created_at)),
        complete_time: to_timestamp_opt(t.completed_at),
        etag: etag::of(t.version),
        deadline: Some(t.deadline.to_proto(now)),
        rectification_limit: t.rectification_limit.map(Limit::to_proto),
    }
}
