//! The events intake writes to its outbox: the customer's notifications
//! (§5.2.1), accepted applications for the workflow service, what ran out
//! for the compliance service, and an audit record for every mutation.

use procedo_platform::error::Error;
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

/// Destination of the reports the compliance service's checks read
/// (inquiries and applications that ran out).
pub const COMPLIANCE: &str = "compliance";

/// Queues a report (`event_type`, one of [`events::intake`]) for the
/// compliance service.
pub async fn to_compliance(
    tx: &mut AnyConnection,
    actor: &Actor,
    event_type: &str,
    change: &pb::StatusChanged,
) -> Result<(), Error> {
    send(tx, actor, COMPLIANCE, event_type, change).await
}

/// Destination of accepted applications (delivered to the workflow
/// service, which starts the type's process).
pub const WORKFLOW: &str = "workflow";

/// Queues the customer's notification of a change (`event_type`, one of
/// [`events::intake`]).
pub async fn notify_customer(
    tx: &mut AnyConnection,
    actor: &Actor,
    event_type: &str,
    change: &pb::StatusChanged,
) -> Result<(), Error> {
    send(tx, actor, CUSTOMER, event_type, change).await
}

/// Queues the event that has the workflow service start the process of an
/// accepted application (`change.process_key`, initiated by
/// `change.department`).
pub async fn to_workflow(
    tx: &mut AnyConnection,
    actor: &Actor,
    change: &pb::StatusChanged,
) -> Result<(), Error> {
    send(
        tx,
        actor,
        WORKFLOW,
        events::intake::APPLICATION_ACCEPTED,
        change,
    )
    .await
}

async fn send(
    tx: &mut AnyConnection,
    actor: &Actor,
    destination: &str,
    event_type: &str,
    change: &pb::StatusChanged,
) -> Result<(), Error> {
    let mut queued = outbox::Batch::default();
    queue(&mut queued, actor, destination, event_type, change);
    queued.write(tx).await
}

/// Adds `change` for `destination` to `queued`, as [`event_type`].
pub fn queue(
    queued: &mut outbox::Batch,
    actor: &Actor,
    destination: &str,
    event_type: &str,
    change: &pb::StatusChanged,
) {
    queued.enqueue(
        SOURCE,
        actor,
        NewEvent {
            destination,
            event_type,
            subject: &change.resource,
            data_type: events::intake::STATUS_CHANGED,
            data: change.encode_to_vec(),
        },
    );
}

/// Queues the audit record of a mutation.
pub async fn audit(
    tx: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    resource: &str,
    detail: String,
) -> Result<(), Error> {
    outbox::audit(tx, SOURCE, actor, action, resource, detail).await
}
