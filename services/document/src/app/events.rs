//! What the document service writes to its outbox: an audit record for
//! every mutation and for every read of confidential material, and the
//! facts the compliance service keeps (registered, approved, signed,
//! archived; loans overdue; returned copies that do not match).

use procedo_platform::error::Error;
use procedo_platform::identity::{Actor, Clearance};
use procedo_platform::outbox::{self, NewEvent};
use procedo_proto::events;
use prost::Message as _;
use sqlx::AnyConnection;

use crate::domain::document::Document;

/// Destination of the events the compliance service follows.
pub const COMPLIANCE: &str = "compliance";

/// Queues `event_type` about `subject` for the compliance service.
pub async fn to_compliance(
    tx: &mut AnyConnection,
    actor: &Actor,
    event_type: &str,
    subject: &str,
    data_type: &str,
    data: Vec<u8>,
) -> Result<(), Error> {
    outbox::enqueue(
        tx,
        SOURCE,
        actor,
        NewEvent {
            destination: COMPLIANCE,
            event_type,
            subject,
            data_type,
            data,
        },
    )
    .await?;
    Ok(())
}

/// Queues a fact about `document` (one of `events::document`) for the
/// compliance service.
pub async fn document_fact(
    tx: &mut AnyConnection,
    actor: &Actor,
    event_type: &str,
    document: &Document,
) -> Result<(), Error> {
    to_compliance(
        tx,
        actor,
        event_type,
        &document.resource(),
        events::document::DOCUMENT,
        crate::api::document_to_pb(document).encode_to_vec(),
    )
    .await
}

pub const SOURCE: &str = "procedo.document";

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

/// Whether reading material of `level` is audited (§1.3.5).
pub fn read_is_audited(level: Clearance) -> bool {
    level >= Clearance::Confidential
}
