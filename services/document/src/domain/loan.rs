//! Borrowing (§4.3): a request names the scope, purpose and period; an
//! archivist approves (and, for confidential and secret documents, a
//! department head of the owning department); the loan runs on the
//! company's calendar, can be renewed, turns overdue once, and ends with a
//! return that records the paper original's condition or compares a
//! returned copy's SHA-256.

use procedo_platform::calendar::Limit;
use procedo_platform::calendars::Stored;
use procedo_platform::deadline::Deadline;
use procedo_platform::identity::{Actor, Role};
use procedo_platform::state::{IllegalTransition, State};
use procedo_platform::time::Millis;
use serde::{Deserialize, Serialize};

use super::person::Person;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    View,
    Copy,
    PaperOriginal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoanStatus {
    Requested,
    Active,
    Rejected,
    Returned,
}

impl State for LoanStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl LoanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LoanStatus::Requested => "REQUESTED",
            LoanStatus::Active => "ACTIVE",
            LoanStatus::Rejected => "REJECTED",
            LoanStatus::Returned => "RETURNED",
        }
    }
}

/// Who must approve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Approver {
    Archivist,
    /// A department head of the document's owning department.
    DepartmentHead,
}

impl Approver {
    pub fn as_str(self) -> &'static str {
        match self {
            Approver::Archivist => "archivist",
            Approver::DepartmentHead => "department_head",
        }
    }
}

/// One step of a loan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub action: String,
    pub detail: String,
    pub actor: Person,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loan {
    pub id: String,
    pub document_id: String,
    pub document_number: String,
    pub owning_department: String,
    pub version: i32,
    pub borrower: Person,
    pub scope: Scope,
    pub purpose: String,
    pub period: Limit,
    pub status: LoanStatus,
    pub needs: Vec<Approver>,
    pub deadline: Option<Deadline>,
    pub escalated_at: Option<Millis>,
    pub renewal: Option<Limit>,
    pub condition: String,
    pub returned_sha256: String,
    /// `Some(true)` when a returned copy matched.
    pub integrity: Option<bool>,
    pub history: Vec<Entry>,
    pub created_at: Millis,
    pub row_version: i64,
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

/// What a new loan asks, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLoan {
    pub scope: Scope,
    pub purpose: String,
    pub period: Limit,
}

impl Loan {
    #[allow(clippy::too_many_arguments)]
    pub fn request(
        id: String,
        document_id: String,
        document_number: String,
        owning_department: String,
        version: i32,
        confidential: bool,
        new: NewLoan,
        actor: &Actor,
        now: Millis,
    ) -> Loan {
        let mut needs = vec![Approver::Archivist];
        if confidential {
            needs.push(Approver::DepartmentHead);
        }
        let mut loan = Loan {
            id,
            document_id,
            document_number,
            owning_department,
            version,
            borrower: Person::of(actor),
            scope: new.scope,
            purpose: new.purpose,
            period: new.period,
            status: LoanStatus::Requested,
            needs,
            deadline: None,
            escalated_at: None,
            renewal: None,
            condition: String::new(),
            returned_sha256: String::new(),
            integrity: None,
            history: Vec::new(),
            created_at: now,
            row_version: 1,
        };
        loan.note("requested", format!("for {}", new.period), actor, now);
        loan
    }

    pub fn resource(&self) -> String {
        format!("loans/{}", self.id)
    }

    fn note(&mut self, action: &str, detail: String, actor: &Actor, now: Millis) {
        self.history.push(Entry {
            action: action.to_owned(),
            detail,
            actor: Person::of(actor),
            at: now,
        });
    }

    /// The approval `actor` can give now, if any.
    fn seat(&self, actor: &Actor) -> Option<Approver> {
        self.needs.iter().copied().find(|need| match need {
            Approver::Archivist => actor.has(Role::Archivist),
            Approver::DepartmentHead => {
                actor.has(Role::DepartmentHead) && actor.department == self.owning_department
            }
        })
    }

    /// Approves or rejects what the loan waits for: the loan, or a
    /// renewal.
    pub fn decide(
        &mut self,
        actor: &Actor,
        approve: bool,
        comment: String,
        calendar: &Stored,
        now: Millis,
    ) -> Result<(), Refusal> {
        if !approve && comment.trim().is_empty() {
            return Err(Refusal::Unfit {
                field: "comment",
                description: "say why it is rejected".into(),
            });
        }
        match (self.status, self.renewal) {
            (LoanStatus::Requested, _) => {
                let seat = self.seat(actor).ok_or_else(|| {
                    Refusal::Denied(format!(
                        "this loan waits for: {}",
                        self.needs
                            .iter()
                            .map(|n| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
                if !approve {
                    self.status = LoanStatus::Rejected;
                    self.needs.clear();
                    self.note("rejected", comment, actor, now);
                } else {
                    self.needs.retain(|n| *n != seat);
                    self.note("approved", format!("as {}", seat.as_str()), actor, now);
                    if self.needs.is_empty() {
                        self.status = LoanStatus::Active;
                        self.deadline = Some(Deadline::start(now, self.period, calendar));
                        self.note("activated", String::new(), actor, now);
                    }
                }
            }
            (LoanStatus::Active, Some(extra)) => {
                if !actor.has(Role::Archivist) {
                    return Err(Refusal::Denied("an archivist decides on a renewal".into()));
                }
                self.renewal = None;
                if approve {
                    let from = self.deadline.as_ref().map_or(now, |d| d.due);
                    self.deadline = Some(Deadline::start(from, extra, calendar));
                    self.escalated_at = None;
                    self.note("renewed", format!("by {extra}"), actor, now);
                } else {
                    self.note("renewal_rejected", comment, actor, now);
                }
            }
            (status, _) => {
                return Err(Refusal::State(IllegalTransition {
                    action: "decide on",
                    current: status.as_str(),
                    allowed: vec!["REQUESTED", "ACTIVE with a renewal asked for"],
                }));
            }
        }
        self.row_version += 1;
        Ok(())
    }

    /// The borrower asks for `extra` time.
    pub fn request_renewal(
        &mut self,
        actor: &Actor,
        extra: Limit,
        reason: &str,
        now: Millis,
    ) -> Result<(), Refusal> {
        self.status
            .require("renew", &[LoanStatus::Active])
            .map_err(Refusal::State)?;
        if actor.subject != self.borrower.subject {
            return Err(Refusal::Denied("only the borrower asks to renew".into()));
        }
        if self.renewal.is_some() {
            return Err(Refusal::Denied(
                "a renewal is waiting for approval already".into(),
            ));
        }
        self.renewal = Some(extra);
        self.note(
            "renewal_requested",
            format!("{extra}: {reason}"),
            actor,
            now,
        );
        self.row_version += 1;
        Ok(())
    }

    /// Ends the loan: the paper original's `condition`, or a returned
    /// copy's SHA-256 compared with `archived_sha256`. True when a copy
    /// did not match.
    pub fn give_back(
        &mut self,
        actor: &Actor,
        condition: String,
        returned_sha256: String,
        archived_sha256: &str,
        now: Millis,
    ) -> Result<bool, Refusal> {
        self.status
            .require("return", &[LoanStatus::Active])
            .map_err(Refusal::State)?;
        if !actor.has(Role::Archivist) {
            return Err(Refusal::Denied("an archivist takes a loan back".into()));
        }
        match self.scope {
            Scope::PaperOriginal if condition.trim().is_empty() => {
                return Err(Refusal::Unfit {
                    field: "condition",
                    description: "record the paper original's condition".into(),
                });
            }
            Scope::Copy if returned_sha256.is_empty() => {
                return Err(Refusal::Unfit {
                    field: "returned_sha256",
                    description: "give the returned copy's SHA-256".into(),
                });
            }
            _ => {}
        }
        let mismatch = self.scope == Scope::Copy && returned_sha256 != archived_sha256;
        if self.scope == Scope::Copy {
            self.integrity = Some(!mismatch);
        }
        self.condition = condition;
        self.returned_sha256 = returned_sha256;
        self.status = LoanStatus::Returned;
        if let Some(d) = self.deadline.as_mut() {
            let _ = d.meet(now);
        }
        self.note("returned", self.condition.clone(), actor, now);
        if mismatch {
            self.note(
                "integrity_mismatch",
                format!(
                    "returned {} ≠ archived {archived_sha256}",
                    self.returned_sha256
                ),
                actor,
                now,
            );
        }
        self.row_version += 1;
        Ok(mismatch)
    }

    /// Marks it overdue, once, when it ran out unreturned.
    pub fn mark_overdue(&mut self, actor: &Actor, now: Millis) -> bool {
        let overdue = self.status == LoanStatus::Active
            && self.escalated_at.is_none()
            && self.deadline.as_ref().is_some_and(|d| d.is_overdue(now));
        if overdue {
            self.escalated_at = Some(now);
            self.note("overdue", "escalated to the archivists".into(), actor, now);
            self.row_version += 1;
        }
        overdue
    }

    /// Follows a new version of its calendar; true when the due time moved.
    pub fn follow_calendar(&mut self, calendar: &Stored, actor: &Actor, now: Millis) -> bool {
        let Some(deadline) = self.deadline.as_mut() else {
            return false;
        };
        let Some(before) = deadline.recompute(calendar) else {
            return false;
        };
        let note = deadline.moved_note(before, calendar);
        self.note("deadline_moved", note, actor, now);
        self.row_version += 1;
        true
    }

    /// Whether `actor` sees it: its borrower, or who manages loans.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        actor.subject == self.borrower.subject
            || actor.has(Role::Archivist)
            || actor.has(Role::Auditor)
            || (actor.has(Role::DepartmentHead) && actor.department == self.owning_department)
    }
}
