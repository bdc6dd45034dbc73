//! What the other services report, kept once per event as a fact: the
//! automatic checks read what went wrong, the assessment what was done and
//! when.

use procedo_platform::error::Error;
use procedo_platform::time::from_timestamp;
use procedo_proto::common::Event;
use procedo_proto::{document, events, intake, workflow};
use prost::Message;
use sqlx::AnyConnection;

use crate::domain::fact::{Fact, kind};
use crate::store;

/// The event types kept as facts.
pub fn follows(event_type: &str) -> bool {
    matches!(
        event_type,
        events::workflow::TASK_OVERDUE
            | events::workflow::TASK_COMPLETED
            | events::document::REGISTERED
            | events::document::APPROVED
            | events::document::SIGNED
            | events::document::LOAN_OVERDUE
            | events::document::LOAN_INTEGRITY_MISMATCH
            | events::intake::INQUIRY_OVERDUE
            | events::intake::INQUIRY_ANSWERED_LATE
            | events::intake::APPLICATION_OVERDUE
            | events::intake::INQUIRY_RESPONDED
            | events::intake::INQUIRY_CLOSED
            | events::intake::APPLICATION_STATUS_CHANGED
    )
}

fn decode<M: Message + Default>(event: &Event, name: &str) -> Result<M, Error> {
    let data = event
        .data
        .as_ref()
        .map(|d| d.value.as_slice())
        .unwrap_or_default();
    M::decode(data).map_err(|_| Error::invalid("event.data", format!("is not a {name}")))
}

fn ms(t: Option<&prost_types::Timestamp>) -> Option<i64> {
    t.and_then(from_timestamp)
}

/// What `event` reports, as a fact; `None` for what is not kept (an
/// application's status that no indicator reads).
fn read(event: &Event) -> Result<Option<Fact>, Error> {
    let actor = event.actor.clone().unwrap_or_default();
    let who = if actor.name.is_empty() {
        actor.subject.clone()
    } else {
        actor.name.clone()
    };
    let at = ms(event.time.as_ref()).unwrap_or_default();
    let id = event.id.as_str();
    Ok(Some(match event.r#type.as_str() {
        events::workflow::TASK_OVERDUE => {
            let p: workflow::InstanceProgress = decode(event, events::workflow::INSTANCE_PROGRESS)?;
            Fact {
                department: p.department.clone(),
                evidence: format!(
                    "task {} (step {:?}) of {} passed its time limit; workflow escalated it to the head of {}",
                    p.task, p.step_name, p.instance, p.department
                ),
                ..Fact::new(id, kind::TASK_OVERDUE, p.task, at)
            }
        }
        events::workflow::TASK_COMPLETED => {
            let t: workflow::TaskCompleted = decode(event, events::workflow::TASK_COMPLETION)?;
            let done = ms(t.complete_time.as_ref()).unwrap_or(at);
            Fact {
                department: t.department.clone(),
                person: t.assignee.clone(),
                due_at: ms(t.due_time.as_ref()),
                outcome: t.decision.clone(),
                category: t.step_kind.clone(),
                series: format!("{}/{}", t.instance, t.step),
                round: t.visit,
                evidence: format!(
                    "{} completed {} ({:?}, a {} step of {}) with {}",
                    t.assignee, t.task, t.step_name, t.step_kind, t.instance, t.decision
                ),
                ..Fact::new(id, kind::TASK_COMPLETED, t.task, done)
            }
        }
        events::document::REGISTERED | events::document::APPROVED | events::document::SIGNED => {
            let d: document::Document = decode(event, events::document::DOCUMENT)?;
            let (kind, evidence) = match event.r#type.as_str() {
                events::document::REGISTERED => (
                    kind::DOCUMENT_REGISTERED,
                    format!("{} {:?} was registered by {who}", d.number, d.title),
                ),
                events::document::APPROVED => (
                    kind::DOCUMENT_APPROVED,
                    format!(
                        "{} {:?} was approved (by {who}) and has not been signed since",
                        d.number, d.title
                    ),
                ),
                _ => (
                    kind::DOCUMENT_SIGNED,
                    format!("{} {:?} was signed by {who}", d.number, d.title),
                ),
            };
            Fact {
                department: d.owning_department.clone(),
                person: actor.subject,
                evidence,
                ..Fact::new(id, kind, d.name, at)
            }
        }
        events::document::LOAN_OVERDUE | events::document::LOAN_INTEGRITY_MISMATCH => {
            let l: document::Loan = decode(event, events::document::LOAN)?;
            let borrower = l
                .borrower
                .as_ref()
                .map(|b| b.subject.clone())
                .unwrap_or_default();
            let (kind, evidence) = if event.r#type == events::document::LOAN_OVERDUE {
                let due = l
                    .deadline
                    .as_ref()
                    .and_then(|d| d.due_time)
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                (
                    kind::LOAN_OVERDUE,
                    format!(
                        "{} of {} lent to {borrower} was not returned by {due}",
                        l.name, l.document_number
                    ),
                )
            } else {
                (
                    kind::INTEGRITY_MISMATCH,
                    format!(
                        "the copy of {} returned by {borrower} on {} has SHA-256 {}, not the archived version's",
                        l.document_number, l.name, l.returned_sha256
                    ),
                )
            };
            Fact {
                department: l.owning_department.clone(),
                person: borrower,
                evidence,
                ..Fact::new(id, kind, l.name, at)
            }
        }
        events::intake::INQUIRY_OVERDUE
        | events::intake::INQUIRY_ANSWERED_LATE
        | events::intake::APPLICATION_OVERDUE => {
            let c: intake::StatusChanged = decode(event, events::intake::STATUS_CHANGED)?;
            let (kind, what) = match event.r#type.as_str() {
                events::intake::INQUIRY_OVERDUE => (
                    kind::INQUIRY_LATE,
                    "was not answered within its channel's limit",
                ),
                events::intake::INQUIRY_ANSWERED_LATE => {
                    (kind::INQUIRY_LATE, "was answered after its channel's limit")
                }
                _ => (
                    kind::APPLICATION_OVERDUE,
                    "passed its processing time limit",
                ),
            };
            let number = if c.ledger_number.is_empty() {
                String::new()
            } else {
                format!(" ({})", c.ledger_number)
            };
            // What ran out happened when its deadline passed.
            let due = ms(c.due_time.as_ref());
            Fact {
                department: c.department.clone(),
                due_at: due,
                evidence: format!("{}{number} {what}, in status {}", c.resource, c.to_status),
                ..Fact::new(id, kind, c.resource, due.unwrap_or(at))
            }
        }
        events::intake::INQUIRY_RESPONDED | events::intake::INQUIRY_CLOSED => {
            let c: intake::StatusChanged = decode(event, events::intake::STATUS_CHANGED)?;
            if event.r#type == events::intake::INQUIRY_RESPONDED {
                Fact {
                    department: c.department.clone(),
                    person: actor.subject,
                    due_at: ms(c.due_time.as_ref()),
                    evidence: format!("{} answered {} first", who, c.resource),
                    ..Fact::new(id, kind::INQUIRY_RESPONDED, c.resource, at)
                }
            } else {
                Fact {
                    department: c.department.clone(),
                    person: actor.subject,
                    value: Some(f64::from(c.satisfaction)),
                    evidence: format!(
                        "{} was closed by {who} with the customer's satisfaction {} of 5",
                        c.resource, c.satisfaction
                    ),
                    ..Fact::new(id, kind::INQUIRY_CLOSED, c.resource, at)
                }
            }
        }
        events::intake::APPLICATION_STATUS_CHANGED => {
            let c: intake::StatusChanged = decode(event, events::intake::STATUS_CHANGED)?;
            // Rejection and completion end the processing clock; the rest no
            // indicator reads.
            if !matches!(c.to_status.as_str(), "REJECTED" | "COMPLETED") {
                return Ok(None);
            }
            Fact {
                department: c.department.clone(),
                person: actor.subject,
                due_at: ms(c.due_time.as_ref()),
                outcome: c.to_status.clone(),
                category: c.type_code.clone(),
                evidence: format!(
                    "{} ({}) was {} by {who}",
                    c.resource,
                    c.ledger_number,
                    c.to_status.to_lowercase()
                ),
                ..Fact::new(id, kind::APPLICATION_DECIDED, c.resource, at)
            }
        }
        _ => return Ok(None),
    }))
}

/// Whether `event` (one [`follows`]) can be kept.
pub fn check(event: &Event) -> Result<(), Error> {
    read(event).map(|_| ())
}

/// Keeps what `event` reports; a report kept before changes nothing.
pub async fn keep(tx: &mut AnyConnection, event: &Event) -> Result<(), Error> {
    if let Some(fact) = read(event)? {
        store::insert_fact(tx, &fact).await?;
    }
    Ok(())
}
