//! The events intake writes to its outbox: a customer notification for
//! every status change (§5.2.1) and an audit record for every mutation.

use procedo_platform::auth::Actor;
use procedo_platform::outbox::{self, NewEvent};
use procedo_platform::telemetry;
use procedo_proto::common;
use procedo_proto::intake as pb;
use prost::Message as _;
use sqlx::AnyConnection;

/// Destination of customer notifications (delivered to the webhook).
pub const CUSTOMER: &str = "customer";
/// Destination of audit records (delivered to the compliance service).
pub const AUDIT: &str = "audit";

pub const SOURCE: &str = "procedo.intake";

/// Queues the customer notification for a status change.
pub async fn notify_customer(
    tx: &mut AnyConnection,
    actor: &Actor,
    event_type: &str,
    change: &pb::StatusChanged,
) -> Result<(), sqlx::Error> {
    outbox::enqueue(
        tx,
        SOURCE,
        actor,
        NewEvent {
            destination: CUSTOMER,
            event_type,
            subject: &change.resource,
            data_type: "procedo.intake.v1.StatusChanged",
            data: change.encode_to_vec(),
        },
    )
    .await?;
    Ok(())
}

/// Queues the audit record of a mutation.
pub async fn audit(
    tx: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    resource: &str,
    detail: String,
) -> Result<(), sqlx::Error> {
    let record = common::AuditRecord {
        action: action.to_owned(),
        resource: resource.to_owned(),
        detail,
        trace_id: telemetry::current_trace_id(),
    };
    outbox::enqueue(
        tx,
        SOURCE,
        actor,
        NewEvent {
            destination: AUDIT,
            event_type: "procedo.common.v1.audit",
            subject: resource,
            data_type: "procedo.common.v1.AuditRecord",
            data: record.encode_to_vec(),
        },
    )
    .await?;
    Ok(())
}
