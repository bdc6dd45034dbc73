//! What the document service writes to its outbox: an audit record for
//! every mutation and for every read of confidential material.

use procedo_platform::identity::{Actor, Clearance};
use procedo_platform::outbox;
use sqlx::AnyConnection;

pub const SOURCE: &str = "procedo.document";

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

/// Whether reading material of `level` is audited (§1.3.5).
pub fn read_is_audited(level: Clearance) -> bool {
    level >= Clearance::Confidential
}
