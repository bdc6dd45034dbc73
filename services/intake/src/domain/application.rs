//! Business applications (§2.2): the completeness check against the type's
//! checklist, the preliminary review and withdrawal.

use std::collections::HashSet;

use procedo_platform::calendars::Stored;
use procedo_platform::deadline::{Deadline, DeadlineState};
use procedo_platform::identity::Actor;
pub use procedo_platform::money::Money;
use procedo_platform::time::Millis;

use super::application_type::{ApplicationType, MaterialRequirement, normalize};
use super::{IllegalTransition, State};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationStatus {
    Incomplete,
    PendingReview,
    CorrectionRequested,
    Accepted,
    Rejected,
    Withdrawn,
    InProgress,
    Completed,
    Cancelled,
}

impl State for ApplicationStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl ApplicationStatus {
    pub const ALL: [ApplicationStatus; 9] = [
        ApplicationStatus::Incomplete,
        ApplicationStatus::PendingReview,
        ApplicationStatus::CorrectionRequested,
        ApplicationStatus::Accepted,
        ApplicationStatus::Rejected,
        ApplicationStatus::Withdrawn,
        ApplicationStatus::InProgress,
        ApplicationStatus::Completed,
        ApplicationStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Incomplete => "INCOMPLETE",
            ApplicationStatus::PendingReview => "PENDING_REVIEW",
            ApplicationStatus::CorrectionRequested => "CORRECTION_REQUESTED",
            ApplicationStatus::Accepted => "ACCEPTED",
            ApplicationStatus::Rejected => "REJECTED",
            ApplicationStatus::Withdrawn => "WITHDRAWN",
            ApplicationStatus::InProgress => "IN_PROGRESS",
            ApplicationStatus::Completed => "COMPLETED",
            ApplicationStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<ApplicationStatus> {
        ApplicationStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// What the customer is told when the application reaches this state.
    pub fn customer_message(self) -> &'static str {
        match self {
            ApplicationStatus::Incomplete => {
                "Your application is missing required materials; please supplement them."
            }
            ApplicationStatus::PendingReview => {
                "Your application is complete and awaits preliminary review."
            }
            ApplicationStatus::CorrectionRequested => {
                "Your application needs corrections; please see the items listed."
            }
            ApplicationStatus::Accepted => "Your application has been accepted for processing.",
            ApplicationStatus::Rejected => "Your application has been rejected.",
            ApplicationStatus::Withdrawn => "Your application has been withdrawn.",
            ApplicationStatus::InProgress => "Your application is being processed.",
            ApplicationStatus::Completed => "Your application has been completed.",
            ApplicationStatus::Cancelled => "Processing of your application has been cancelled.",
        }
    }

    /// Why the processing clock stands still in this state (§2.2).
    pub fn waiting_for(self) -> &'static str {
        match self {
            ApplicationStatus::Incomplete => "waiting for the applicant's missing materials",
            ApplicationStatus::CorrectionRequested => "waiting for the applicant's corrections",
            _ => "",
        }
    }

    /// Supplementing materials is allowed while the applicant owes something;
    /// the check then runs again.
    pub fn supplement(self, missing: &[String]) -> Result<ApplicationStatus, IllegalTransition> {
        use ApplicationStatus::*;
        self.require("supplement", &[Incomplete, CorrectionRequested])?;
        Ok(after_check(missing))
    }

    pub fn review(self, decision: &ReviewDecision) -> Result<ApplicationStatus, IllegalTransition> {
        self.require("review", &[ApplicationStatus::PendingReview])?;
        Ok(match decision {
            ReviewDecision::Accept => ApplicationStatus::Accepted,
            ReviewDecision::Reject { .. } => ApplicationStatus::Rejected,
            ReviewDecision::RequestCorrection { .. } => ApplicationStatus::CorrectionRequested,
        })
    }

    pub fn withdraw(self) -> Result<ApplicationStatus, IllegalTransition> {
        use ApplicationStatus::*;
        self.require(
            "withdraw",
            &[Incomplete, PendingReview, CorrectionRequested],
        )?;
        Ok(Withdrawn)
    }
}

/// The state the completeness check leads to.
pub fn after_check(missing: &[String]) -> ApplicationStatus {
    if missing.is_empty() {
        ApplicationStatus::PendingReview
    } else {
        ApplicationStatus::Incomplete
    }
}

/// A material handed in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Material {
    pub name: String,
    pub content_sha256: String,
    pub document_ref: String,
}

/// The mandatory checklist items not among `materials`, in checklist order.
pub fn missing_materials(checklist: &[MaterialRequirement], materials: &[Material]) -> Vec<String> {
    let present: HashSet<String> = materials.iter().map(|m| normalize(&m.name)).collect();
    checklist
        .iter()
        .filter(|r| r.mandatory && !present.contains(&normalize(&r.name)))
        .map(|r| r.name.clone())
        .collect()
}

/// `existing` with `added` merged in: a material of the same name is
/// replaced, others are appended.
pub fn merge_materials(existing: &[Material], added: Vec<Material>) -> Vec<Material> {
    let mut merged = existing.to_vec();
    for material in added {
        let key = normalize(&material.name);
        match merged.iter_mut().find(|m| normalize(&m.name) == key) {
            Some(slot) => *slot = material,
            None => merged.push(material),
        }
    }
    merged
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionReason {
    OutOfScope,
    Unclear,
}

impl RejectionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionReason::OutOfScope => "OUT_OF_SCOPE",
            RejectionReason::Unclear => "UNCLEAR",
        }
    }

    pub fn parse(s: &str) -> Option<RejectionReason> {
        match s {
            "OUT_OF_SCOPE" => Some(RejectionReason::OutOfScope),
            "UNCLEAR" => Some(RejectionReason::Unclear),
            _ => None,
        }
    }
}

/// The preliminary review's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewDecision {
    Accept,
    Reject {
        reason: RejectionReason,
        explanation: String,
    },
    RequestCorrection {
        items: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    pub name: String,
    pub organisation: String,
    pub phone: String,
    pub email: String,
}

/// One status change, kept forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub from: Option<ApplicationStatus>,
    pub to: ApplicationStatus,
    pub action: &'static str,
    pub reason: String,
    pub actor: Actor,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub id: String,
    pub ledger_number: String,
    pub type_code: String,
    pub applicant: Applicant,
    pub title: String,
    pub description: String,
    pub amount: Option<Money>,
    pub materials: Vec<Material>,
    /// The type's checklist as it was at submission.
    pub checklist: Vec<MaterialRequirement>,
    pub status: ApplicationStatus,
    pub missing: Vec<String>,
    pub correction_items: Vec<String>,
    pub rejection: Option<(RejectionReason, String)>,
    pub submitted_by: Actor,
    pub submitted_at: Millis,
    /// The processing clock: paused while the applicant owes something,
    /// met once the application is decided against, withdrawn or done.
    pub processing: Deadline,
    pub updated_at: Millis,
    pub version: i64,
    /// Once accepted: the workflow instance and the stage it reached.
    pub process_instance: String,
    pub stage: String,
    /// The last workflow history sequence applied (older events are stale).
    pub progress_seq: i64,
}

/// What the workflow service reports about an accepted application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    StageReached(String),
    Completed,
    Cancelled,
}

/// What a submission carries, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApplication {
    pub type_code: String,
    pub applicant: Applicant,
    pub title: String,
    pub description: String,
    pub amount: Option<Money>,
    pub materials: Vec<Material>,
}

/// A change a caller asks of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplicationChange {
    /// Adds materials and, for corrections, a new matter (title and
    /// description).
    Supplement {
        materials: Vec<Material>,
        matter: Option<(String, String)>,
        note: String,
    },
    Review {
        decision: ReviewDecision,
        comment: String,
    },
    Withdraw {
        reason: String,
    },
}

impl ApplicationChange {
    /// The action its audit record names.
    pub fn action(&self) -> &'static str {
        match self {
            ApplicationChange::Supplement { .. } => "intake.applications.supplement",
            ApplicationChange::Review { .. } => "intake.applications.review",
            ApplicationChange::Withdraw { .. } => "intake.applications.withdraw",
        }
    }
}

impl HistoryEntry {
    /// Whether the customer hears of this entry (§5.2.1): every change of
    /// status, and every new stage of the process even though the status
    /// stays.
    pub fn tells_customer(&self) -> bool {
        self.from != Some(self.to) || self.action == "process"
    }
}

impl Application {
    /// "applications/{id}".
    pub fn resource(&self) -> String {
        format!("applications/{}", self.id)
    }

    /// Applies `change`; the entry records it.
    pub fn change(
        &mut self,
        change: ApplicationChange,
        actor: &Actor,
        now: Millis,
        calendar: &Stored,
    ) -> Result<HistoryEntry, IllegalTransition> {
        let entry = match change {
            ApplicationChange::Supplement {
                materials,
                matter,
                note,
            } => self.supplement(materials, matter, note, actor, now)?,
            ApplicationChange::Review { decision, comment } => {
                self.review(decision, comment, actor, now)?
            }
            ApplicationChange::Withdraw { reason } => self.withdraw(reason, actor, now)?,
        };
        self.run_clock(now, calendar);
        Ok(entry)
    }

    /// Follows a new version of the calendar its processing clock counts
    /// on; the history entry of the move, when the due time moved.
    pub fn follow_calendar(
        &mut self,
        calendar: &Stored,
        actor: &Actor,
        now: Millis,
    ) -> Option<HistoryEntry> {
        let before = self.processing.recompute(calendar)?;
        let note = self.processing.moved_note(before, calendar);
        Some(self.apply("deadline_moved", self.status, note, actor, now))
    }

    /// Keeps the processing clock in step with the status (§2.2): it stands
    /// still while the applicant owes materials or corrections, and stops
    /// for good once nothing more is to be done.
    fn run_clock(&mut self, now: Millis, calendar: &Stored) {
        use ApplicationStatus::*;
        let clock = &mut self.processing;
        // Each arm acts only in the clock state that allows it, so none
        // can fail.
        let _ = match (self.status, clock.state) {
            (Incomplete | CorrectionRequested, DeadlineState::Running) => {
                clock.pause(now, self.status.waiting_for().to_owned())
            }
            (PendingReview | Accepted | InProgress, DeadlineState::Paused) => {
                clock.resume(now, calendar)
            }
            (
                Rejected | Withdrawn | Completed | Cancelled,
                DeadlineState::Running | DeadlineState::Paused,
            ) => clock.meet(now),
            _ => Ok(()),
        };
    }

    /// What the customer is told of `entry`: the new status in their words
    /// and what it asks of them.
    pub fn customer_message(&self, entry: &HistoryEntry) -> String {
        let mut message = format!(
            "Application {} ({}): {}",
            self.ledger_number,
            self.title,
            entry.to.customer_message()
        );
        match entry.to {
            ApplicationStatus::Incomplete => {
                message.push_str(&format!(" Missing: {}.", self.missing.join(", ")));
            }
            ApplicationStatus::CorrectionRequested => {
                message.push_str(&format!(
                    " To correct: {}.",
                    self.correction_items.join("; ")
                ));
            }
            ApplicationStatus::Rejected => {
                if let Some((_, explanation)) = &self.rejection {
                    message.push_str(&format!(" Reason: {explanation}"));
                }
            }
            ApplicationStatus::InProgress => {
                message.push_str(&format!(" Current stage: {}.", self.stage));
            }
            ApplicationStatus::PendingReview
            | ApplicationStatus::Accepted
            | ApplicationStatus::Withdrawn
            | ApplicationStatus::Completed
            | ApplicationStatus::Cancelled => {}
        }
        message
    }

    /// A submitted application after its completeness check, and the first
    /// history entry.
    pub fn submit(
        id: String,
        ledger_number: String,
        new: NewApplication,
        application_type: &ApplicationType,
        actor: &Actor,
        now: Millis,
        calendar: &Stored,
    ) -> (Application, HistoryEntry) {
        let checklist = application_type.materials.clone();
        let missing = missing_materials(&checklist, &new.materials);
        let status = after_check(&missing);
        let mut application = Application {
            id,
            ledger_number,
            type_code: new.type_code,
            applicant: new.applicant,
            title: new.title,
            description: new.description,
            amount: new.amount,
            materials: new.materials,
            checklist,
            status,
            missing,
            correction_items: Vec::new(),
            rejection: None,
            submitted_by: actor.clone(),
            submitted_at: now,
            processing: Deadline::start(now, application_type.processing_limit, calendar),
            updated_at: now,
            version: 1,
            process_instance: String::new(),
            stage: String::new(),
            progress_seq: 0,
        };
        application.run_clock(now, calendar);
        let entry = HistoryEntry {
            from: None,
            to: status,
            action: "submit",
            reason: String::new(),
            actor: actor.clone(),
            at: now,
        };
        (application, entry)
    }

    fn apply(
        &mut self,
        action: &'static str,
        next: ApplicationStatus,
        reason: String,
        actor: &Actor,
        now: Millis,
    ) -> HistoryEntry {
        let from = self.status;
        self.status = next;
        self.updated_at = now;
        self.version += 1;
        HistoryEntry {
            from: Some(from),
            to: next,
            action,
            reason,
            actor: actor.clone(),
            at: now,
        }
    }

    /// Adds materials (and, for corrections, a new matter) and checks again.
    fn supplement(
        &mut self,
        materials: Vec<Material>,
        matter: Option<(String, String)>,
        note: String,
        actor: &Actor,
        now: Millis,
    ) -> Result<HistoryEntry, IllegalTransition> {
        let merged = merge_materials(&self.materials, materials);
        let missing = missing_materials(&self.checklist, &merged);
        let next = self.status.supplement(&missing)?;
        self.materials = merged;
        self.missing = missing;
        self.correction_items.clear();
        if let Some((title, description)) = matter {
            self.title = title;
            self.description = description;
        }
        Ok(self.apply("supplement", next, note, actor, now))
    }

    fn review(
        &mut self,
        decision: ReviewDecision,
        comment: String,
        actor: &Actor,
        now: Millis,
    ) -> Result<HistoryEntry, IllegalTransition> {
        let next = self.status.review(&decision)?;
        let reason = match decision {
            ReviewDecision::Accept => comment,
            ReviewDecision::Reject {
                reason,
                explanation,
            } => {
                let text = join_reason(reason.as_str(), &explanation, &comment);
                self.rejection = Some((reason, explanation));
                text
            }
            ReviewDecision::RequestCorrection { items } => {
                let text = join_reason(&items.join("; "), "", &comment);
                self.correction_items = items;
                text
            }
        };
        Ok(self.apply("review", next, reason, actor, now))
    }

    /// Follows the workflow instance running the type's process. `None`
    /// when the report is older than one already applied.
    pub fn progress(
        &mut self,
        instance: &str,
        sequence: i64,
        progress: Progress,
        actor: &Actor,
        now: Millis,
        calendar: &Stored,
    ) -> Result<Option<HistoryEntry>, IllegalTransition> {
        use ApplicationStatus::*;
        if sequence <= self.progress_seq {
            return Ok(None);
        }
        self.status
            .require("follow the process of", &[Accepted, InProgress])?;
        self.progress_seq = sequence;
        instance.clone_into(&mut self.process_instance);
        let (next, reason) = match progress {
            Progress::StageReached(stage) => {
                self.stage.clone_from(&stage);
                (InProgress, stage)
            }
            Progress::Completed => (Completed, "process completed".to_owned()),
            Progress::Cancelled => (Cancelled, "process cancelled".to_owned()),
        };
        let entry = self.apply("process", next, reason, actor, now);
        self.run_clock(now, calendar);
        Ok(Some(entry))
    }

    fn withdraw(
        &mut self,
        reason: String,
        actor: &Actor,
        now: Millis,
    ) -> Result<HistoryEntry, IllegalTransition> {
        let next = self.status.withdraw()?;
        Ok(self.apply("withdraw", next, reason, actor, now))
    }
}

fn join_reason(head: &str, detail: &str, comment: &str) -> String {
    [head, detail, comment]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use procedo_platform::calendar::Limit;

    use super::*;
    use crate::domain::application_type::TypeSpec;
    use ApplicationStatus::*;

    fn req(name: &str, mandatory: bool) -> MaterialRequirement {
        MaterialRequirement {
            name: name.into(),
            mandatory,
        }
    }

    fn mat(name: &str, hash: &str) -> Material {
        Material {
            name: name.into(),
            content_sha256: hash.into(),
            document_ref: String::new(),
        }
    }

    #[test]
    fn missing_mandatory_items_are_listed_in_checklist_order_and_optional_ones_ignored() {
        let checklist = [
            req("ID card", true),
            req("Photo", false),
            req("Licence", true),
        ];
        let missing = missing_materials(&checklist, &[mat(" id card ", "a")]);
        assert_eq!(missing, ["Licence"]);
        assert_eq!(after_check(&missing), Incomplete);
        let missing = missing_materials(&checklist, &[mat("ID card", "a"), mat("LICENCE", "b")]);
        assert!(missing.is_empty());
        assert_eq!(after_check(&missing), PendingReview);
    }

    #[test]
    fn supplementing_replaces_materials_by_name() {
        let merged = merge_materials(
            &[mat("ID card", "old")],
            vec![mat("id card", "new"), mat("Photo", "p")],
        );
        assert_eq!(merged, [mat("id card", "new"), mat("Photo", "p")]);
    }

    #[test]
    fn review_leads_to_the_decided_state_only_from_pending_review() {
        assert_eq!(PendingReview.review(&ReviewDecision::Accept), Ok(Accepted));
        let reject = ReviewDecision::Reject {
            reason: RejectionReason::OutOfScope,
            explanation: "not our business".into(),
        };
        assert_eq!(PendingReview.review(&reject), Ok(Rejected));
        let fix = ReviewDecision::RequestCorrection {
            items: vec!["amount".into()],
        };
        assert_eq!(PendingReview.review(&fix), Ok(CorrectionRequested));
        let err = Incomplete
            .review(&ReviewDecision::Accept)
            .expect_err("not complete");
        assert_eq!(err.current, "INCOMPLETE");
        assert_eq!(err.allowed, ["PENDING_REVIEW"]);
    }

    #[test]
    fn supplementing_runs_the_check_again_and_is_refused_once_decided() {
        assert_eq!(Incomplete.supplement(&[]), Ok(PendingReview));
        assert_eq!(
            CorrectionRequested.supplement(&["x".into()]),
            Ok(Incomplete)
        );
        for decided in [PendingReview, Accepted, Rejected, Withdrawn] {
            assert!(decided.supplement(&[]).is_err());
        }
    }

    #[test]
    fn the_process_moves_an_accepted_application_and_stale_reports_are_ignored() {
        let mut a = application(Accepted);
        let actor = actor();
        let first = a
            .progress(
                "instances/1",
                3,
                Progress::StageReached("Plan".into()),
                &actor,
                1,
                &calendar(),
            )
            .expect("allowed");
        assert_eq!(first.map(|e| e.to), Some(InProgress));
        assert_eq!(a.stage, "Plan");
        let stale = a
            .progress(
                "instances/1",
                2,
                Progress::StageReached("Initiation".into()),
                &actor,
                2,
                &calendar(),
            )
            .expect("allowed");
        assert_eq!(stale, None);
        assert_eq!(a.stage, "Plan");
        a.progress(
            "instances/1",
            9,
            Progress::Completed,
            &actor,
            3,
            &calendar(),
        )
        .expect("allowed");
        assert_eq!(a.status, Completed);
        assert_eq!(a.processing.state, DeadlineState::Met);
        assert_eq!(a.processing.met_at, Some(3));
        let late = a.progress(
            "instances/1",
            10,
            Progress::StageReached("X".into()),
            &actor,
            4,
            &calendar(),
        );
        assert!(late.is_err(), "a completed application follows no process");
    }

    fn calendar() -> Stored {
        Stored::seed(procedo_platform::calendar::Calendar::standard(
            chrono_tz::UTC,
        ))
    }

    #[test]
    fn the_processing_clock_stands_still_while_the_applicant_owes_something() {
        let cal = calendar();
        let hour = 3_600_000;
        // Monday 7 December 2026, 10:00 UTC.
        let monday = 1_796_637_600_000;
        let loan = ApplicationType::new(
            TypeSpec {
                code: "loan".into(),
                display_name: "Loan".into(),
                in_scope: true,
                materials: vec![req("ID card", true)],
                processing_limit: Limit::WorkingDays(2),
                process_key: "standard".into(),
                handling_department: String::new(),
                calendar: String::new(),
            },
            0,
        );
        let new = NewApplication {
            type_code: "loan".into(),
            applicant: application(Incomplete).applicant,
            title: "t".into(),
            description: String::new(),
            amount: None,
            materials: vec![],
        };
        let (mut a, _) = Application::submit(
            "a".into(),
            "SQ-2026-000001".into(),
            new,
            &loan,
            &actor(),
            monday,
            &cal,
        );
        assert_eq!(a.status, Incomplete);
        assert_eq!(a.processing.state, DeadlineState::Paused);
        assert_eq!(a.processing.due, monday + 2 * 24 * hour, "Wednesday 10:00");
        // The ID card comes on Tuesday at 10:00: a working day waited.
        let supplement = ApplicationChange::Supplement {
            materials: vec![mat("ID card", "00")],
            matter: None,
            note: String::new(),
        };
        a.change(supplement, &actor(), monday + 24 * hour, &cal)
            .expect("supplemented");
        assert_eq!(a.status, PendingReview);
        assert_eq!(a.processing.state, DeadlineState::Running);
        assert_eq!(a.processing.due, monday + 3 * 24 * hour, "Thursday 10:00");
        assert_eq!(a.processing.pauses.len(), 1);
        let withdraw = ApplicationChange::Withdraw {
            reason: "no longer needed".into(),
        };
        a.change(withdraw, &actor(), monday + 25 * hour, &cal)
            .expect("withdrawn");
        assert_eq!(a.processing.state, DeadlineState::Met);
    }

    fn actor() -> Actor {
        Actor {
            subject: "workflow".into(),
            name: String::new(),
            title: String::new(),
            department: String::new(),
            roles: vec![],
            approval_level: 0,
            clearance: procedo_platform::identity::Clearance::Internal,
        }
    }

    fn application(status: ApplicationStatus) -> Application {
        Application {
            id: "a".into(),
            ledger_number: "SQ-2026-000001".into(),
            type_code: "loan".into(),
            applicant: Applicant {
                name: "n".into(),
                organisation: String::new(),
                phone: "1".into(),
                email: String::new(),
            },
            title: "t".into(),
            description: String::new(),
            amount: None,
            materials: vec![],
            checklist: vec![],
            status,
            missing: vec![],
            correction_items: vec![],
            rejection: None,
            submitted_by: actor(),
            submitted_at: 0,
            processing: Deadline::start(0, Limit::WorkingDays(5), &calendar()),
            updated_at: 0,
            version: 1,
            process_instance: String::new(),
            stage: String::new(),
            progress_seq: 0,
        }
    }

    #[test]
    fn withdrawal_is_possible_until_a_decision() {
        for open in [Incomplete, PendingReview, CorrectionRequested] {
            assert_eq!(open.withdraw(), Ok(Withdrawn));
        }
        for decided in [Accepted, Rejected, Withdrawn, InProgress, Completed] {
            let err = decided.withdraw().expect_err("decided");
            assert_eq!(
                err.allowed,
                ["INCOMPLETE", "PENDING_REVIEW", "CORRECTION_REQUESTED"]
            );
        }
    }
}
