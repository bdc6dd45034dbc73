//! A fact: one thing a service reported (or compliance itself recorded),
//! kept once per event, with what the automatic checks and the assessment
//! indicators read of it.

use procedo_platform::time::Millis;

/// The kinds of fact, as stored.
pub mod kind {
    /// A workflow task passed its time limit (a candidate finding).
    pub const TASK_OVERDUE: &str = "task_overdue";
    /// An inquiry unanswered past its deadline, or answered after it.
    pub const INQUIRY_LATE: &str = "inquiry_late";
    /// An application still being handled past its processing limit.
    pub const APPLICATION_OVERDUE: &str = "application_overdue";
    /// A document was approved (a candidate finding while unsigned).
    pub const DOCUMENT_APPROVED: &str = "document_approved";
    pub const DOCUMENT_SIGNED: &str = "document_signed";
    pub const DOCUMENT_REGISTERED: &str = "document_registered";
    pub const LOAN_OVERDUE: &str = "loan_overdue";
    pub const INTEGRITY_MISMATCH: &str = "integrity_mismatch";
    /// A step task was completed: person the assignee, `due_at`, outcome
    /// the decision, category the step's kind, series the instance's step
    /// and round its visit.
    pub const TASK_COMPLETED: &str = "task_completed";
    /// An inquiry's first response: person who answered, `due_at` the
    /// channel's deadline.
    pub const INQUIRY_RESPONDED: &str = "inquiry_responded";
    /// An inquiry closed: value the customer's satisfaction (1–5).
    pub const INQUIRY_CLOSED: &str = "inquiry_closed";
    /// An application's processing ended (rejected or completed): outcome
    /// its status, category its type, `due_at` its processing due time.
    pub const APPLICATION_DECIDED: &str = "application_decided";
    /// A rectification notice verified: person the department's head,
    /// `due_at` its deadline.
    pub const NOTICE_VERIFIED: &str = "notice_verified";
}

/// A fact as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// The reporting event's id (or compliance's own).
    pub event_id: String,
    pub kind: String,
    /// The record it is about, e.g. "tasks/{id}".
    pub resource: String,
    pub department: String,
    pub person: String,
    pub occurred_at: Millis,
    pub due_at: Option<Millis>,
    pub value: Option<f64>,
    pub outcome: String,
    pub category: String,
    pub series: String,
    pub round: i64,
    /// What was reported, in words.
    pub evidence: String,
}

impl Fact {
    /// A fact of `kind` about `resource` with nothing else known yet.
    pub fn new(event_id: &str, kind: &str, resource: String, occurred_at: Millis) -> Fact {
        Fact {
            event_id: event_id.to_owned(),
            kind: kind.to_owned(),
            resource,
            department: String::new(),
            person: String::new(),
            occurred_at,
            due_at: None,
            value: None,
            outcome: String::new(),
            category: String::new(),
            series: String::new(),
            round: 0,
            evidence: String::new(),
        }
    }

    /// Whether it happened by its due time (a fact without one is on time).
    pub fn on_time(&self) -> bool {
        self.due_at.is_none_or(|due| self.occurred_at <= due)
    }
}
