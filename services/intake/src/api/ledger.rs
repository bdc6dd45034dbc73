//! The intake ledger (§2.2.3) and the customer notifications (§5.2.1).

use procedo_platform::auth::authorize;
use procedo_platform::identity::Role;
use procedo_platform::outbox::DeliveryStatus;
use procedo_platform::paging::Page;
use procedo_platform::time::{Millis, to_timestamp};
use procedo_platform::validate::Violations;
use procedo_proto::intake as pb;
use tokio_stream::StreamExt as _;
use tonic::{Request, Response, Status};

use super::convert::{self, ledger_entry};
use super::{ExportStream, IntakeApi};
use crate::app::LEDGER_EXPORT_BATCH;
use crate::domain::application_type::check_code;
use crate::domain::ledger::LedgerNumber;
use crate::store::LedgerFilter;

const READ: &[Role] = &[Role::IntakeClerk, Role::DepartmentHead, Role::Auditor];

fn filter(f: Option<&pb::LedgerFilter>, now: Millis, v: &mut Violations) -> LedgerFilter {
    let Some(f) = f else {
        return LedgerFilter::default();
    };
    let applicant = v.optional_line("filter.applicant", &f.applicant, 200);
    let type_code = if f.type_code.is_empty() {
        String::new()
    } else {
        check_code("filter.type_code", &f.type_code, v)
    };
    let ledger_number = v.optional_line("filter.ledger_number", &f.ledger_number, 20);
    if !ledger_number.is_empty() && LedgerNumber::parse(&ledger_number).is_none() {
        v.add(
            "filter.ledger_number",
            "must be a ledger number: SQ-, the year, a dash and six digits (SQ-2026-000042)",
        );
    }
    LedgerFilter {
        ledger_number: Some(ledger_number).filter(|n| !n.is_empty()),
        submitted_from: v.time_opt("filter.submitted_after", f.submitted_after.as_ref()),
        submitted_before: v.time_opt("filter.submitted_before", f.submitted_before.as_ref()),
        applicant: Some(applicant).filter(|a| !a.is_empty()),
        type_code: Some(type_code).filter(|t| !t.is_empty()),
        status: convert::application_status_filter(f.status, "filter.status", v),
        clock: v.clock_filter(
            "filter.",
            f.overdue_only,
            f.paused_only,
            f.due_within.as_ref(),
            now,
        ),
    }
}

pub async fn query(
    api: &IntakeApi,
    r: Request<pb::QueryLedgerRequest>,
) -> Result<Response<pb::QueryLedgerResponse>, Status> {
    authorize(&r, READ)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let filter = filter(r.filter.as_ref(), api.app.now(), &mut v);
    let page = Page::of(&r, &mut v);
    v.finish()?;
    let (rows, next_page_token) = api.app.ledger(&filter, &page).await?;
    Ok(Response::new(pb::QueryLedgerResponse {
        entries: rows.iter().map(ledger_entry).collect(),
        next_page_token,
    }))
}

/// Streams the ledger as the application layer reads it, through a small
/// channel: a slow client slows the reads instead of filling memory.
pub async fn export(
    api: &IntakeApi,
    r: Request<pb::ExportLedgerRequest>,
) -> Result<Response<ExportStream>, Status> {
    authorize(&r, READ)?;
    let mut v = Violations::new();
    let filter = filter(r.get_ref().filter.as_ref(), api.app.now(), &mut v);
    v.finish()?;
    let batch = usize::try_from(LEDGER_EXPORT_BATCH).unwrap_or(1);
    let (rows, read) = tokio::sync::mpsc::channel(batch);
    let app = api.app.clone();
    tokio::spawn(async move { app.export_ledger(filter, rows).await });
    let entries = tokio_stream::wrappers::ReceiverStream::new(read)
        .map(|row| row.map(|a| ledger_entry(&a)).map_err(Status::from));
    Ok(Response::new(Box::pin(entries)))
}

pub async fn notifications(
    api: &IntakeApi,
    r: Request<pb::ListNotificationsRequest>,
) -> Result<Response<pb::ListNotificationsResponse>, Status> {
    authorize(&r, READ)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let page = Page::of(&r, &mut v);
    let resource = v.optional_line("resource", &r.resource, 200);
    let status = match pb::DeliveryStatus::try_from(r.status) {
        Ok(pb::DeliveryStatus::Unspecified) => None,
        Ok(pb::DeliveryStatus::Pending) => Some(DeliveryStatus::Pending),
        Ok(pb::DeliveryStatus::Delivered) => Some(DeliveryStatus::Delivered),
        Ok(pb::DeliveryStatus::Failed) => Some(DeliveryStatus::Failed),
        Err(_) => {
            v.add(
                "status",
                format!("{} is not a known delivery status", r.status),
            );
            None
        }
    };
    v.finish()?;
    let subject = Some(resource.as_str()).filter(|s| !s.is_empty());
    let (records, next_page_token) = api.app.notifications(subject, status, &page).await?;
    let notifications = records
        .into_iter()
        .map(|rec| {
            let change = rec
                .event
                .data
                .as_ref()
                .and_then(|any| prost::Message::decode(any.value.as_slice()).ok())
                .unwrap_or_else(pb::StatusChanged::default);
            pb::Notification {
                name: format!("notifications/{}", rec.event.id),
                resource: rec.event.subject.clone(),
                event_type: rec.event.r#type.clone(),
                message: change.message,
                status: match rec.status {
                    DeliveryStatus::Pending => pb::DeliveryStatus::Pending,
                    DeliveryStatus::Delivered => pb::DeliveryStatus::Delivered,
                    DeliveryStatus::Failed => pb::DeliveryStatus::Failed,
                } as i32,
                attempts: rec
                    .attempts
                    .iter()
                    .map(|a| pb::DeliveryAttempt {
                        time: Some(to_timestamp(a.at)),
                        success: a.success,
                        outcome: a.outcome.clone(),
                    })
                    .collect(),
                create_time: Some(to_timestamp(rec.created_at)),
                next_attempt_time: (rec.status == DeliveryStatus::Pending)
                    .then(|| to_timestamp(rec.next_attempt_at)),
            }
        })
        .collect();
    Ok(Response::new(pb::ListNotificationsResponse {
        notifications,
        next_page_token,
    }))
}
