//! Supervision and inspection (§6.1): checklist templates, plans, and
//! inspections that mark a checklist, draw samples, weigh the candidate
//! findings the automatic checks propose and record findings naming the
//! clause violated and the records involved.

use procedo_platform::person::Person;
use procedo_platform::state::{IllegalTransition, State};
use procedo_platform::time::Millis;
use serde::{Deserialize, Serialize};

use super::history::Entry;

/// What an inspection looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    ProcessCompliance,
    DocumentManagement,
    Communication,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ProcessCompliance => "PROCESS_COMPLIANCE",
            Scope::DocumentManagement => "DOCUMENT_MANAGEMENT",
            Scope::Communication => "COMMUNICATION",
        }
    }
}

/// One thing to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemSpec {
    pub criterion: String,
    pub clause: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub id: String,
    pub title: String,
    pub scope: Scope,
    pub items: Vec<ItemSpec>,
    pub creator: Person,
    pub created_at: Millis,
}

impl Template {
    pub fn resource(&self) -> String {
        format!("checklistTemplates/{}", self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: String,
    pub title: String,
    pub start: Millis,
    pub end: Millis,
    pub scopes: Vec<Scope>,
    pub departments: Vec<String>,
    pub inspectors: Vec<String>,
    pub creator: Person,
    pub created_at: Millis,
}

impl Plan {
    pub fn resource(&self) -> String {
        format!("inspectionPlans/{}", self.id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mark {
    Unmarked,
    Conforming,
    Nonconforming,
    NotApplicable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub criterion: String,
    pub clause: String,
    pub mark: Mark,
    pub notes: String,
    pub evidence: Vec<String>,
    pub marked_by: Option<Person>,
    pub marked_at: Option<Millis>,
}

/// Where samples come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Source {
    IntakeLedger,
    WorkflowInstances,
    Documents,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::IntakeLedger => "intake ledger",
            Source::WorkflowInstances => "workflow instances",
            Source::Documents => "documents",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub source: Source,
    pub resource: String,
    pub label: String,
    pub drawn_at: Millis,
}

/// The automatic checks, each standing for a clause of the regulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckKind {
    TaskOverdue,
    InquiryLate,
    ApplicationOverdue,
    ApprovedNotSigned,
    LoanOverdue,
    IntegrityMismatch,
}

impl CheckKind {
    pub const ALL: [CheckKind; 6] = [
        CheckKind::TaskOverdue,
        CheckKind::InquiryLate,
        CheckKind::ApplicationOverdue,
        CheckKind::ApprovedNotSigned,
        CheckKind::LoanOverdue,
        CheckKind::IntegrityMismatch,
    ];

    /// The kind of fact it reads.
    pub fn as_str(self) -> &'static str {
        use super::fact::kind;
        match self {
            CheckKind::TaskOverdue => kind::TASK_OVERDUE,
            CheckKind::InquiryLate => kind::INQUIRY_LATE,
            CheckKind::ApplicationOverdue => kind::APPLICATION_OVERDUE,
            CheckKind::ApprovedNotSigned => kind::DOCUMENT_APPROVED,
            CheckKind::LoanOverdue => kind::LOAN_OVERDUE,
            CheckKind::IntegrityMismatch => kind::INTEGRITY_MISMATCH,
        }
    }

    /// The clause a hit falls short of (DESIGN's reading of the
    /// regulation): time limits of steps (§3.4), inquiry response limits
    /// (§5.1.1), application processing limits (§5.1.2), signing of
    /// approved documents (§4.2), controlled borrowing (§4.3).
    pub fn clause(self) -> &'static str {
        match self {
            CheckKind::TaskOverdue => "§3.4",
            CheckKind::InquiryLate => "§5.1.1",
            CheckKind::ApplicationOverdue => "§5.1.2",
            CheckKind::ApprovedNotSigned => "§4.2",
            CheckKind::LoanOverdue | CheckKind::IntegrityMismatch => "§4.3",
        }
    }
}

/// What a check found in the reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub check: CheckKind,
    pub resource: String,
    pub evidence: String,
    pub occurred_at: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CandidateStatus {
    Proposed,
    Accepted,
    Dismissed,
}

impl State for CandidateStatus {
    fn name(self) -> &'static str {
        match self {
            CandidateStatus::Proposed => "PROPOSED",
            CandidateStatus::Accepted => "ACCEPTED",
            CandidateStatus::Dismissed => "DISMISSED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub id: String,
    pub check: CheckKind,
    pub resources: Vec<String>,
    pub clause: String,
    pub evidence: String,
    pub occurred_at: Millis,
    pub status: CandidateStatus,
    pub finding: String,
    pub dismiss_reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Open,
    Completed,
}

impl State for Status {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "OPEN",
            Status::Completed => "COMPLETED",
        }
    }
}

/// Why an inspection refuses a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    State(IllegalTransition),
    Unfit {
        field: &'static str,
        description: String,
    },
    /// Completing with work left; says what.
    Unfinished(String),
}

impl From<IllegalTransition> for Refusal {
    fn from(t: IllegalTransition) -> Refusal {
        Refusal::State(t)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    pub id: String,
    /// Empty when not part of a plan.
    pub plan_id: String,
    pub title: String,
    pub scope: Scope,
    pub department: String,
    pub start: Millis,
    pub end: Millis,
    pub inspectors: Vec<String>,
    pub status: Status,
    pub checklist: Vec<Item>,
    pub samples: Vec<Sample>,
    pub candidates: Vec<Candidate>,
    pub findings: Vec<String>,
    pub history: Vec<Entry>,
    pub created_at: Millis,
    pub row_version: i64,
}

/// What a new inspection is, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInspection {
    pub plan_id: String,
    pub title: String,
    pub scope: Scope,
    pub department: String,
    pub start: Millis,
    pub end: Millis,
    pub inspectors: Vec<String>,
    pub checklist: Vec<ItemSpec>,
}

impl Inspection {
    pub fn new(id: String, new: NewInspection, actor: &Person, now: Millis) -> Inspection {
        let checklist = new
            .checklist
            .into_iter()
            .enumerate()
            .map(|(i, spec)| Item {
                id: (i + 1).to_string(),
                criterion: spec.criterion,
                clause: spec.clause,
                mark: Mark::Unmarked,
                notes: String::new(),
                evidence: Vec::new(),
                marked_by: None,
                marked_at: None,
            })
            .collect();
        let mut inspection = Inspection {
            id,
            plan_id: new.plan_id,
            title: new.title,
            scope: new.scope,
            department: new.department,
            start: new.start,
            end: new.end,
            inspectors: new.inspectors,
            status: Status::Open,
            checklist,
            samples: Vec::new(),
            candidates: Vec::new(),
            findings: Vec::new(),
            history: Vec::new(),
            created_at: now,
            row_version: 1,
        };
        let detail = format!("of {}", inspection.department);
        inspection.note("created", detail, actor, now);
        inspection
    }

    pub fn resource(&self) -> String {
        format!("inspections/{}", self.id)
    }

    fn note(&mut self, action: &str, detail: String, actor: &Person, now: Millis) {
        self.history.push(Entry {
            action: action.to_owned(),
            detail,
            actor: actor.clone(),
            at: now,
        });
    }

    fn changing(&mut self, action: &'static str) -> Result<(), Refusal> {
        self.status.require(action, &[Status::Open])?;
        self.row_version += 1;
        Ok(())
    }

    /// Whether `resource` was sampled already.
    pub fn sampled(&self, resource: &str) -> bool {
        self.samples.iter().any(|s| s.resource == resource)
    }

    /// Adds `drawn` from `source` (resource, label); how many were new.
    pub fn add_samples(
        &mut self,
        drawn: Vec<(Source, String, String)>,
        actor: &Person,
        now: Millis,
    ) -> Result<usize, Refusal> {
        self.changing("draw samples")?;
        let mut added = 0;
        let mut detail = Vec::new();
        for (source, resource, label) in drawn {
            if self.sampled(&resource) {
                continue;
            }
            detail.push(resource.clone());
            self.samples.push(Sample {
                source,
                resource,
                label,
                drawn_at: now,
            });
            added += 1;
        }
        let detail = if detail.is_empty() {
            "nothing new to draw".to_owned()
        } else {
            detail.join(", ")
        };
        self.note("sampled", detail, actor, now);
        Ok(added)
    }

    /// Proposes each hit not proposed before as a candidate; how many.
    pub fn propose(
        &mut self,
        hits: Vec<Hit>,
        actor: &Person,
        now: Millis,
    ) -> Result<usize, Refusal> {
        self.changing("run checks")?;
        let mut added = 0;
        for hit in hits {
            let known = self
                .candidates
                .iter()
                .any(|c| c.check == hit.check && c.resources.first() == Some(&hit.resource));
            if known {
                continue;
            }
            self.candidates.push(Candidate {
                id: (self.candidates.len() + 1).to_string(),
                check: hit.check,
                resources: vec![hit.resource],
                clause: hit.check.clause().to_owned(),
                evidence: hit.evidence,
                occurred_at: hit.occurred_at,
                status: CandidateStatus::Proposed,
                finding: String::new(),
                dismiss_reason: String::new(),
            });
            added += 1;
        }
        self.note(
            "checked",
            format!("{added} new candidate findings"),
            actor,
            now,
        );
        Ok(added)
    }

    /// Marks checklist item `item`.
    pub fn mark(
        &mut self,
        item: &str,
        mark: Mark,
        notes: String,
        evidence: Vec<String>,
        actor: &Person,
        now: Millis,
    ) -> Result<(), Refusal> {
        self.changing("mark a checklist item")?;
        if mark == Mark::Nonconforming && notes.trim().is_empty() {
            return Err(Refusal::Unfit {
                field: "notes",
                description: "say what does not conform".into(),
            });
        }
        let ids = self.checklist.len();
        let Some(entry) = self.checklist.iter_mut().find(|i| i.id == item) else {
            return Err(Refusal::Unfit {
                field: "item",
                description: format!(
                    "no checklist item {item:?}: the items are \"1\" to \"{ids}\""
                ),
            });
        };
        entry.mark = mark;
        entry.notes = notes;
        entry.evidence = evidence;
        entry.marked_by = Some(actor.clone());
        entry.marked_at = Some(now);
        self.note("marked", format!("item {item}: {mark:?}"), actor, now);
        Ok(())
    }

    fn proposed(&mut self, id: &str) -> Result<&mut Candidate, Refusal> {
        let count = self.candidates.len();
        let candidate = self
            .candidates
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or_else(|| Refusal::Unfit {
                field: "candidate",
                description: if count == 0 {
                    format!("no candidate {id:?}: the inspection has none (run the checks)")
                } else {
                    format!("no candidate {id:?}: the candidates are \"1\" to \"{count}\"")
                },
            })?;
        candidate
            .status
            .require("decide on a candidate", &[CandidateStatus::Proposed])?;
        Ok(candidate)
    }

    /// The resources of candidate `id`, still to be decided.
    pub fn candidate_resources(&mut self, id: &str) -> Result<Vec<String>, Refusal> {
        Ok(self.proposed(id)?.resources.clone())
    }

    /// Records finding `finding` (made of candidate `candidate`, if any).
    pub fn record_finding(
        &mut self,
        finding: &Finding,
        actor: &Person,
        now: Millis,
    ) -> Result<(), Refusal> {
        self.changing("record a finding")?;
        if !finding.candidate.is_empty() {
            let candidate = self.proposed(&finding.candidate)?;
            candidate.status = CandidateStatus::Accepted;
            candidate.finding = finding.resource();
        }
        self.findings.push(finding.resource());
        let detail = format!(
            "{} {:?}: {}",
            finding.resource(),
            finding.severity,
            finding.clause
        );
        self.note("finding", detail, actor, now);
        Ok(())
    }

    pub fn dismiss(
        &mut self,
        candidate: &str,
        reason: &str,
        actor: &Person,
        now: Millis,
    ) -> Result<(), Refusal> {
        self.changing("dismiss a candidate")?;
        if reason.trim().is_empty() {
            return Err(Refusal::Unfit {
                field: "reason",
                description: "say why it is not a finding".into(),
            });
        }
        let c = self.proposed(candidate)?;
        c.status = CandidateStatus::Dismissed;
        reason.clone_into(&mut c.dismiss_reason);
        self.note(
            "dismissed",
            format!("candidate {candidate}: {reason}"),
            actor,
            now,
        );
        Ok(())
    }

    /// Ends the inspection once nothing is left undecided.
    pub fn complete(&mut self, actor: &Person, now: Millis) -> Result<(), Refusal> {
        self.changing("complete")?;
        let unmarked: Vec<&str> = self
            .checklist
            .iter()
            .filter(|i| i.mark == Mark::Unmarked)
            .map(|i| i.id.as_str())
            .collect();
        let undecided: Vec<&str> = self
            .candidates
            .iter()
            .filter(|c| c.status == CandidateStatus::Proposed)
            .map(|c| c.id.as_str())
            .collect();
        let mut left = Vec::new();
        if !unmarked.is_empty() {
            left.push(format!(
                "checklist items {} are unmarked",
                unmarked.join(", ")
            ));
        }
        if !undecided.is_empty() {
            left.push(format!(
                "candidates {} are neither recorded nor dismissed",
                undecided.join(", ")
            ));
        }
        if !left.is_empty() {
            return Err(Refusal::Unfinished(left.join("; ")));
        }
        self.status = Status::Completed;
        let detail = format!("{} findings", self.findings.len());
        self.note("completed", detail, actor, now);
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    Minor,
    Major,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FindingStatus {
    Open,
    Rectifying,
    Closed,
}

impl State for FindingStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl FindingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::Open => "OPEN",
            FindingStatus::Rectifying => "RECTIFYING",
            FindingStatus::Closed => "CLOSED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub inspection_id: String,
    pub department: String,
    pub severity: Severity,
    pub clause: String,
    pub resources: Vec<String>,
    pub description: String,
    pub evidence: Vec<String>,
    /// The candidate's id on the inspection, or empty.
    pub candidate: String,
    pub status: FindingStatus,
    /// The notice covering it, or empty.
    pub notice_id: String,
    pub recorder: Person,
    pub created_at: Millis,
    pub row_version: i64,
}

impl Finding {
    pub fn resource(&self) -> String {
        format!("findings/{}", self.id)
    }
}

/// Whether `clause` names a clause: "§" and dotted numbers, e.g. "§4.2.1".
pub fn valid_clause(clause: &str) -> bool {
    clause.strip_prefix('§').is_some_and(|rest| {
        !rest.is_empty()
            && rest.split('.').all(|part| {
                !part.is_empty() && part.len() <= 3 && part.bytes().all(|b| b.is_ascii_digit())
            })
    })
}

/// Whether `name` is a resource name "collection/id" of another service.
pub fn valid_resource(name: &str) -> bool {
    match name.split_once('/') {
        Some((collection, id)) => {
            !collection.is_empty()
                && collection.bytes().all(|b| b.is_ascii_alphabetic())
                && !id.is_empty()
                && id.len() <= 200
                && !id.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(subject: &str) -> Person {
        Person {
            subject: subject.into(),
            name: subject.into(),
            title: String::new(),
            department: "audit".into(),
        }
    }

    fn inspection() -> Inspection {
        Inspection::new(
            "i1".into(),
            NewInspection {
                plan_id: String::new(),
                title: "Q3 process check".into(),
                scope: Scope::ProcessCompliance,
                department: "sales".into(),
                start: 0,
                end: 1_000,
                inspectors: vec!["ann".into()],
                checklist: vec![
                    ItemSpec {
                        criterion: "ledger kept daily".into(),
                        clause: "§5.1.2".into(),
                    },
                    ItemSpec {
                        criterion: "plans reviewed jointly".into(),
                        clause: String::new(),
                    },
                ],
            },
            &person("ann"),
            10,
        )
    }

    fn finding(candidate: &str) -> Finding {
        Finding {
            id: "f1".into(),
            inspection_id: "i1".into(),
            department: "sales".into(),
            severity: Severity::Major,
            clause: "§3.4".into(),
            resources: vec!["tasks/t1".into()],
            description: "late".into(),
            evidence: Vec::new(),
            candidate: candidate.into(),
            status: FindingStatus::Open,
            notice_id: String::new(),
            recorder: person("ann"),
            created_at: 20,
            row_version: 1,
        }
    }

    fn hit(resource: &str) -> Hit {
        Hit {
            check: CheckKind::TaskOverdue,
            resource: resource.into(),
            evidence: "overdue".into(),
            occurred_at: 5,
        }
    }

    #[test]
    fn clauses_are_section_numbers() {
        for good in ["§1", "§4.2.1", "§10.3"] {
            assert!(valid_clause(good), "{good}");
        }
        for bad in ["", "§", "4.2", "§4..2", "§4.2.", "§a.1", "§ 4", "§1234"] {
            assert!(!valid_clause(bad), "{bad}");
        }
    }

    #[test]
    fn resources_are_collection_slash_id() {
        assert!(valid_resource("tasks/0193"));
        assert!(valid_resource("applications/abc-1"));
        for bad in ["tasks", "/x", "tasks/", "ta sks/x", "tasks/a b"] {
            assert!(!valid_resource(bad), "{bad}");
        }
    }

    #[test]
    fn the_same_hit_is_proposed_once_and_samples_are_drawn_once() {
        let mut i = inspection();
        let ann = person("ann");
        assert_eq!(
            i.propose(vec![hit("tasks/1"), hit("tasks/2")], &ann, 11)
                .expect("allowed"),
            2
        );
        assert_eq!(
            i.propose(vec![hit("tasks/2"), hit("tasks/3")], &ann, 12)
                .expect("allowed"),
            1
        );
        assert_eq!(
            i.candidates
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>(),
            ["1", "2", "3"]
        );
        let drawn = |r: &str| (Source::Documents, r.to_owned(), String::new());
        assert_eq!(
            i.add_samples(vec![drawn("documents/a")], &ann, 13)
                .expect("allowed"),
            1
        );
        assert_eq!(
            i.add_samples(vec![drawn("documents/a"), drawn("documents/b")], &ann, 14)
                .expect("allowed"),
            1
        );
    }

    #[test]
    fn completing_needs_every_item_marked_and_every_candidate_decided() {
        let mut i = inspection();
        let ann = person("ann");
        i.propose(vec![hit("tasks/1"), hit("tasks/2")], &ann, 11)
            .expect("allowed");
        let Err(Refusal::Unfinished(left)) = i.complete(&ann, 12) else {
            panic!("completed with work left");
        };
        assert!(
            left.contains("items 1, 2") && left.contains("candidates 1, 2"),
            "{left}"
        );

        let err = i.mark("1", Mark::Nonconforming, " ".into(), Vec::new(), &ann, 13);
        assert!(matches!(err, Err(Refusal::Unfit { field: "notes", .. })));
        let err = i.mark("9", Mark::Conforming, String::new(), Vec::new(), &ann, 13);
        assert!(matches!(err, Err(Refusal::Unfit { field: "item", .. })));
        i.mark(
            "1",
            Mark::Nonconforming,
            "two late".into(),
            Vec::new(),
            &ann,
            13,
        )
        .expect("allowed");
        i.mark(
            "2",
            Mark::NotApplicable,
            String::new(),
            Vec::new(),
            &ann,
            13,
        )
        .expect("allowed");

        i.record_finding(&finding("1"), &ann, 14).expect("allowed");
        assert_eq!(i.candidates[0].status, CandidateStatus::Accepted);
        assert_eq!(i.candidates[0].finding, "findings/f1");
        // A decided candidate cannot be decided again.
        let again = i.dismiss("1", "dup", &ann, 15);
        assert!(matches!(again, Err(Refusal::State(t)) if t.current == "ACCEPTED"));
        i.dismiss("2", "a holiday backlog, agreed", &ann, 15)
            .expect("allowed");

        i.complete(&ann, 16).expect("allowed");
        assert_eq!(i.status, Status::Completed);
        let after = i.mark("1", Mark::Conforming, String::new(), Vec::new(), &ann, 17);
        assert!(matches!(after, Err(Refusal::State(t)) if t.allowed == ["OPEN"]));
    }
}
