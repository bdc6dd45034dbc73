//! What the other services report that the automatic checks read: each
//! reporting event kept once as a signal, with the evidence a candidate
//! finding will carry.

use procedo_platform::error::Error;
use procedo_platform::time::from_timestamp;
use procedo_proto::common::Event;
use procedo_proto::{document, events, workflow};
use prost::Message;
use sqlx::AnyConnection;

use crate::domain::inspection::CheckKind;
use crate::store::{self, DOCUMENT_SIGNED, Signal};

/// The event types kept as signals.
pub fn follows(event_type: &str) -> bool {
    matches!(
        event_type,
        events::workflow::TASK_OVERDUE
            | events::document::APPROVED
            | events::document::SIGNED
            | events::document::LOAN_OVERDUE
            | events::document::LOAN_INTEGRITY_MISMATCH
            | events::intake::INQUIRY_OVERDUE
            | events::intake::INQUIRY_ANSWERED_LATE
            | events::intake::APPLICATION_OVERDUE
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

/// What `event` reports: (kind, resource, department, evidence).
fn read(event: &Event) -> Result<Option<(&'static str, String, String, String)>, Error> {
    let who = event
        .actor
        .as_ref()
        .map(|a| {
            if a.name.is_empty() {
                a.subject.clone()
            } else {
                a.name.clone()
            }
        })
        .unwrap_or_default();
    Ok(Some(match event.r#type.as_str() {
        events::workflow::TASK_OVERDUE => {
            let p: workflow::InstanceProgress = decode(event, events::workflow::INSTANCE_PROGRESS)?;
            let evidence = format!(
                "task {} (step {:?}) of {} passed its time limit; workflow escalated it to the head of {}",
                p.task, p.step_name, p.instance, p.department
            );
            (
                CheckKind::TaskOverdue.as_str(),
                p.task,
                p.department,
                evidence,
            )
        }
        events::document::APPROVED | events::document::SIGNED => {
            let d: document::Document = decode(event, events::document::DOCUMENT)?;
            if event.r#type == events::document::APPROVED {
                let evidence = format!(
                    "{} {:?} was approved (by {who}) and has not been signed since",
                    d.number, d.title
                );
                (
                    CheckKind::ApprovedNotSigned.as_str(),
                    d.name,
                    d.owning_department,
                    evidence,
                )
            } else {
                let evidence = format!("{} {:?} was signed by {who}", d.number, d.title);
                (DOCUMENT_SIGNED, d.name, d.owning_department, evidence)
            }
        }
        events::document::LOAN_OVERDUE | events::document::LOAN_INTEGRITY_MISMATCH => {
            let l: document::Loan = decode(event, events::document::LOAN)?;
            let borrower = l.borrower.map(|b| b.subject).unwrap_or_default();
            if event.r#type == events::document::LOAN_OVERDUE {
                let due = l
                    .deadline
                    .and_then(|d| d.due_time)
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                let evidence = format!(
                    "{} of {} lent to {borrower} was not returned by {due}",
                    l.name, l.document_number
                );
                (
                    CheckKind::LoanOverdue.as_str(),
                    l.name,
                    l.owning_department,
                    evidence,
                )
            } else {
                let evidence = format!(
                    "the copy of {} returned by {borrower} on {} has SHA-256 {}, not the archived version's",
                    l.document_number, l.name, l.returned_sha256
                );
                (
                    CheckKind::IntegrityMismatch.as_str(),
                    l.name,
                    l.owning_department,
                    evidence,
                )
            }
        }
        events::intake::INQUIRY_OVERDUE
        | events::intake::INQUIRY_ANSWERED_LATE
        | events::intake::APPLICATION_OVERDUE => {
            let c: procedo_proto::intake::StatusChanged =
                decode(event, events::intake::STATUS_CHANGED)?;
            let (kind, what) = match event.r#type.as_str() {
                events::intake::INQUIRY_OVERDUE => (
                    CheckKind::InquiryLate.as_str(),
                    "was not answered within its channel's limit",
                ),
                events::intake::INQUIRY_ANSWERED_LATE => (
                    CheckKind::InquiryLate.as_str(),
                    "was answered after its channel's limit",
                ),
                _ => (
                    CheckKind::ApplicationOverdue.as_str(),
                    "passed its processing time limit",
                ),
            };
            let number = if c.ledger_number.is_empty() {
                String::new()
            } else {
                format!(" ({})", c.ledger_number)
            };
            let evidence = format!("{}{number} {what}, in status {}", c.resource, c.to_status);
            (kind, c.resource, c.department, evidence)
        }
        _ => return Ok(None),
    }))
}

/// When the deadline passed, for intake's overdue reports.
fn due_time(event: &Event) -> Option<i64> {
    if !matches!(
        event.r#type.as_str(),
        events::intake::INQUIRY_OVERDUE
            | events::intake::INQUIRY_ANSWERED_LATE
            | events::intake::APPLICATION_OVERDUE
    ) {
        return None;
    }
    let c: procedo_proto::intake::StatusChanged =
        decode(event, events::intake::STATUS_CHANGED).ok()?;
    c.due_time.as_ref().and_then(from_timestamp)
}

/// Whether `event` (one [`follows`]) can be kept.
pub fn check(event: &Event) -> Result<(), Error> {
    read(event).map(|_| ())
}

/// Keeps what `event` reports; a report kept before changes nothing.
pub async fn keep(tx: &mut AnyConnection, event: &Event) -> Result<(), Error> {
    let Some((kind, resource, department, evidence)) = read(event)? else {
        return Ok(());
    };
    // A report of what ran out happened when its deadline passed.
    let occurred_at = due_time(event)
        .or_else(|| event.time.as_ref().and_then(from_timestamp))
        .unwrap_or_default();
    store::insert_signal(
        tx,
        &Signal {
            event_id: &event.id,
            kind,
            resource: &resource,
            department: &department,
            occurred_at,
            evidence,
        },
    )
    .await?;
    Ok(())
}
