//! Rectification notices (§6.1): issued to a department for findings,
//! answered by the department, verified or reopened by the inspectors;
//! escalated once when their deadline passes open.

use procedo_platform::calendars::Stored;
use procedo_platform::deadline::Deadline;
use procedo_platform::identity::{Actor, Role};
use procedo_platform::person::Person;
use procedo_platform::state::{IllegalTransition, State};
use procedo_platform::time::Millis;
use serde::{Deserialize, Serialize};

use super::history::Entry;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoticeStatus {
    Issued,
    Acknowledged,
    InProgress,
    Submitted,
    Verified,
    Reopened,
}

impl State for NoticeStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl NoticeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeStatus::Issued => "ISSUED",
            NoticeStatus::Acknowledged => "ACKNOWLEDGED",
            NoticeStatus::InProgress => "IN_PROGRESS",
            NoticeStatus::Submitted => "SUBMITTED",
            NoticeStatus::Verified => "VERIFIED",
            NoticeStatus::Reopened => "REOPENED",
        }
    }

    /// Whether the department still owes work (the deadline runs).
    pub fn is_open(self) -> bool {
        !matches!(self, NoticeStatus::Submitted | NoticeStatus::Verified)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    State(IllegalTransition),
    Denied(String),
    Unfit {
        field: &'static str,
        description: String,
    },
}

impl From<IllegalTransition> for Refusal {
    fn from(t: IllegalTransition) -> Refusal {
        Refusal::State(t)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: String,
    /// "findings/{id}".
    pub findings: Vec<String>,
    pub department: String,
    /// Subject of the department's head.
    pub department_head: String,
    pub requirements: String,
    pub status: NoticeStatus,
    pub deadline: Deadline,
    /// When it was escalated since its current deadline was set.
    pub escalated_at: Option<Millis>,
    pub inspector: Person,
    pub evidence: Vec<String>,
    pub submission_notes: String,
    pub reopen_reason: String,
    pub history: Vec<Entry>,
    pub created_at: Millis,
    pub row_version: i64,
}

/// What a new notice says, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    pub findings: Vec<String>,
    pub department: String,
    pub department_head: String,
    pub requirements: String,
    pub deadline: Deadline,
}

impl Notice {
    pub fn issue(id: String, new: NewNotice, inspector: &Actor, now: Millis) -> Notice {
        let mut notice = Notice {
            id,
            findings: new.findings,
            department: new.department,
            department_head: new.department_head,
            requirements: new.requirements,
            status: NoticeStatus::Issued,
            deadline: new.deadline,
            escalated_at: None,
            inspector: Person::of(inspector),
            evidence: Vec::new(),
            submission_notes: String::new(),
            reopen_reason: String::new(),
            history: Vec::new(),
            created_at: now,
            row_version: 1,
        };
        let detail = format!(
            "to {} for {}",
            notice.department,
            notice.findings.join(", ")
        );
        notice.note("issued", detail, inspector, now);
        notice
    }

    pub fn resource(&self) -> String {
        format!("rectificationNotices/{}", self.id)
    }

    fn note(&mut self, action: &str, detail: String, actor: &Actor, now: Millis) {
        self.history.push(Entry {
            action: action.to_owned(),
            detail,
            actor: Person::of(actor),
            at: now,
        });
        self.row_version += 1;
    }

    /// Whether `actor` answers for the department: its named head, or a
    /// department head of it.
    pub fn answers(&self, actor: &Actor) -> bool {
        actor.subject == self.department_head
            || (actor.has(Role::DepartmentHead) && actor.department == self.department)
            || actor.has(Role::Admin)
    }

    /// Whether `actor` may see it: the inspectors, and the department.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        actor.has(Role::Auditor) || self.answers(actor)
    }

    fn department_step(&self, actor: &Actor) -> Result<(), Refusal> {
        if self.answers(actor) {
            Ok(())
        } else {
            Err(Refusal::Denied(format!(
                "only the head of {} ({}) answers this notice",
                self.department, self.department_head
            )))
        }
    }

    pub fn acknowledge(
        &mut self,
        actor: &Actor,
        comment: String,
        now: Millis,
    ) -> Result<(), Refusal> {
        self.status
            .require("acknowledge", &[NoticeStatus::Issued])?;
        self.department_step(actor)?;
        self.status = NoticeStatus::Acknowledged;
        self.note("acknowledged", comment, actor, now);
        Ok(())
    }

    pub fn start(&mut self, actor: &Actor, comment: String, now: Millis) -> Result<(), Refusal> {
        self.status.require(
            "start rectification",
            &[NoticeStatus::Acknowledged, NoticeStatus::Reopened],
        )?;
        self.department_step(actor)?;
        self.status = NoticeStatus::InProgress;
        self.note("started", comment, actor, now);
        Ok(())
    }

    /// Hands in the rectification; the deadline is met now.
    pub fn submit(
        &mut self,
        actor: &Actor,
        evidence: Vec<String>,
        notes: String,
        now: Millis,
    ) -> Result<(), Refusal> {
        self.status.require("submit", &[NoticeStatus::InProgress])?;
        self.department_step(actor)?;
        if evidence.is_empty() && notes.trim().is_empty() {
            return Err(Refusal::Unfit {
                field: "evidence",
                description: "give the evidence of the rectification (documents) or notes".into(),
            });
        }
        self.deadline.meet(now)?;
        let late = self.deadline.due < now;
        self.status = NoticeStatus::Submitted;
        self.evidence = evidence;
        self.submission_notes = notes;
        let detail = if late {
            "after its deadline".to_owned()
        } else {
            "within its deadline".to_owned()
        };
        self.note("submitted", detail, actor, now);
        Ok(())
    }

    /// Closes it: the rectification is accepted.
    pub fn verify(&mut self, actor: &Actor, comment: String, now: Millis) -> Result<(), Refusal> {
        self.status.require("verify", &[NoticeStatus::Submitted])?;
        self.status = NoticeStatus::Verified;
        self.note("verified", comment, actor, now);
        Ok(())
    }

    /// Sends it back with `reason`, under a new `deadline`.
    pub fn reopen(
        &mut self,
        actor: &Actor,
        reason: String,
        deadline: Deadline,
        now: Millis,
    ) -> Result<(), Refusal> {
        self.status.require("reopen", &[NoticeStatus::Submitted])?;
        if reason.trim().is_empty() {
            return Err(Refusal::Unfit {
                field: "reason",
                description: "say what is still wrong".into(),
            });
        }
        self.status = NoticeStatus::Reopened;
        self.deadline = deadline;
        self.escalated_at = None;
        self.reopen_reason.clone_from(&reason);
        self.note("reopened", reason, actor, now);
        Ok(())
    }

    /// Escalates it once when its deadline passed with the notice open;
    /// whether it did.
    pub fn mark_overdue(&mut self, actor: &Actor, now: Millis) -> bool {
        let overdue =
            self.status.is_open() && self.escalated_at.is_none() && self.deadline.is_overdue(now);
        if overdue {
            self.escalated_at = Some(now);
            let detail = self.escalated_to();
            self.note("overdue", detail, actor, now);
        }
        overdue
    }

    /// Who an overdue notice goes to.
    pub fn escalated_to(&self) -> String {
        format!(
            "escalated to {} (head of {}) and {} (inspector)",
            self.department_head, self.department, self.inspector.subject
        )
    }

    /// Follows a new version of its calendar; true when the due time moved.
    pub fn follow_calendar(&mut self, calendar: &Stored, actor: &Actor, now: Millis) -> bool {
        let Some(before) = self.deadline.recompute(calendar) else {
            return false;
        };
        let note = self.deadline.moved_note(before, calendar);
        self.note("due_moved", note, actor, now);
        true
    }

    /// The due time lists filter on: the deadline's while work is owed.
    pub fn open_due(&self) -> Option<Millis> {
        self.status.is_open().then_some(self.deadline.due)
    }
}

#[cfg(test)]
mod tests {
    use procedo_platform::calendar::{Calendar, Limit};
    use procedo_platform::identity::Clearance;

    use super::*;

    fn actor(subject: &str, department: &str, roles: &[Role]) -> Actor {
        Actor {
            subject: subject.into(),
            name: subject.into(),
            title: String::new(),
            department: department.into(),
            roles: roles.to_vec(),
            approval_level: 0,
            clearance: Clearance::Internal,
        }
    }

    fn notice(due: Millis) -> Notice {
        let calendar = Stored::seed(Calendar::standard(chrono_tz::UTC));
        Notice::issue(
            "n1".into(),
            NewNotice {
                findings: vec!["findings/f1".into()],
                department: "sales".into(),
                department_head: "hank".into(),
                requirements: "enter every application the same day".into(),
                deadline: Deadline::until(0, due, &calendar),
            },
            &actor("ann", "audit", &[Role::Auditor]),
            0,
        )
    }

    #[test]
    fn a_notice_goes_through_reopening_to_verification() {
        let mut n = notice(100);
        let head = actor("hank", "sales", &[Role::DepartmentHead]);
        let other_head = actor("olga", "finance", &[Role::DepartmentHead]);
        let auditor = actor("ann", "audit", &[Role::Auditor]);
        assert!(matches!(
            n.acknowledge(&other_head, String::new(), 1),
            Err(Refusal::Denied(_))
        ));
        let early = n.start(&head, String::new(), 1).expect_err("refused");
        assert!(
            matches!(&early, Refusal::State(t) if t.current == "ISSUED" && t.allowed == ["ACKNOWLEDGED", "REOPENED"]),
            "{early:?}"
        );
        n.acknowledge(&head, "seen".into(), 2).expect("allowed");
        n.start(&head, String::new(), 3).expect("allowed");
        assert!(matches!(
            n.submit(&head, Vec::new(), " ".into(), 4),
            Err(Refusal::Unfit {
                field: "evidence",
                ..
            })
        ));
        n.submit(&head, vec!["documents/d1".into()], "retrained".into(), 4)
            .expect("allowed");
        assert_eq!(n.deadline.met_at, Some(4));
        assert_eq!(n.open_due(), None);

        let calendar = Stored::seed(Calendar::standard(chrono_tz::UTC));
        assert!(matches!(
            n.reopen(
                &auditor,
                String::new(),
                Deadline::until(5, 200, &calendar),
                5
            ),
            Err(Refusal::Unfit {
                field: "reason",
                ..
            })
        ));
        n.reopen(
            &auditor,
            "two still missing".into(),
            Deadline::until(5, 200, &calendar),
            5,
        )
        .expect("allowed");
        assert_eq!(n.open_due(), Some(200));
        n.start(&head, String::new(), 6).expect("allowed");
        n.submit(&head, vec!["documents/d2".into()], String::new(), 7)
            .expect("allowed");
        n.verify(&auditor, "done".into(), 8).expect("allowed");
        let actions: Vec<&str> = n.history.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "issued",
                "acknowledged",
                "started",
                "submitted",
                "reopened",
                "started",
                "submitted",
                "verified"
            ]
        );
        assert!(n.verify(&auditor, String::new(), 9).is_err());
    }

    #[test]
    fn an_open_notice_is_escalated_once_per_deadline() {
        let sweeper = actor("procedo-compliance", "", &[Role::Service]);
        let mut n = notice(100);
        assert!(!n.mark_overdue(&sweeper, 100), "due, not yet past");
        assert!(n.mark_overdue(&sweeper, 101));
        assert!(!n.mark_overdue(&sweeper, 102), "once");
        assert!(
            n.history.last().expect("an entry").detail.contains("hank")
                && n.history.last().expect("an entry").detail.contains("ann")
        );

        // Submitted late, reopened: the new deadline escalates again.
        let head = actor("hank", "sales", &[Role::DepartmentHead]);
        n.acknowledge(&head, String::new(), 103).expect("allowed");
        n.start(&head, String::new(), 104).expect("allowed");
        n.submit(&head, Vec::new(), "done".into(), 105)
            .expect("allowed");
        assert_eq!(
            n.history.last().expect("an entry").detail,
            "after its deadline"
        );
        assert!(
            !n.mark_overdue(&sweeper, 500),
            "submitted work is not overdue"
        );
        let calendar = Stored::seed(Calendar::standard(chrono_tz::UTC));
        let auditor = actor("ann", "audit", &[Role::Auditor]);
        n.reopen(
            &auditor,
            "not enough".into(),
            Deadline::start(106, Limit::Elapsed(50), &calendar),
            106,
        )
        .expect("allowed");
        assert!(n.mark_overdue(&sweeper, 157));
    }
}
