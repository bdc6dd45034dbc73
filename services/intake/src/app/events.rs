//! The events intake writes to its outbox: a customer notification for
//! every status change (§5.2.1) and an audit record for every mutation.

use procedo_platform::identity::Actor;
use procedo_platform::outbox::{self, NewEvent};
use procedo_proto::events;
use procedo_proto::intake as pb;
use prost::Message as _;
use sqlx::AnyConnection;

/// Destination of customer notifications (delivered to the webhook).
pub const CUSTOMER: &str = "customer";
pub use procedo_platform::outbox::AUDIT;

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
            data_type: events::intake::STATUS_CHANGED,
            data: change.encode_to_vec(),
        },
    )
    .await?;
    Ok(())
}

/// Destination of accepted applications (delivered to the workflow
/// service, which starts the type's process).
pub const WORKFLOW: &str = "workflow";

/// Queues the event that has the workflow service start the process of an
/// accepted application (`change.process_key`, initiated by
/// `change.department`).
pub async fn to_workflow(
    tx: &mut AnyConnection,
    actor: &Actor,
    change: &pb::StatusChanged,
) -> Result<(), sqlx::Error> {
    outbox::enqueue(
        tx,
        SOURCE,
        actor,
        NewEvent {
            destination: WORKFLOW,
            event_type: events::intake::APPLICATION_ACCEPTED,
            subject: &change.resource,
            data_type: events::intake::STATUS_CHANGED,
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
    outbox::audit(tx, SOURCE, actor, action, resource, detail).await
}
