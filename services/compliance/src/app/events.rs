//! Compliance's own audit records: written to its outbox under the `audit`
//! destination like every service's, and delivered by a relay into its own
//! log in-process ([`OwnRecords`]), so its changes are logged exactly as
//! the others' are, after they commit.

use procedo_platform::error::Error;
use procedo_platform::identity::Actor;
use procedo_platform::inbox;
use procedo_platform::outbox::{self, Deliver, Outcome};
use procedo_proto::common::Event;
use sqlx::AnyConnection;

use super::App;

pub const SOURCE: &str = "procedo.compliance";

/// Queues the audit record of a change.
pub async fn audit(
    tx: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    resource: &str,
    detail: String,
) -> Result<(), Error> {
    outbox::audit(tx, SOURCE, actor, action, resource, detail).await
}

/// Delivers compliance's own audit records to its own log.
#[derive(Debug, Clone)]
pub struct OwnRecords {
    pub app: App,
}

impl OwnRecords {
    async fn append(&self, events: &[Event]) -> Result<(), Error> {
        let mut tx = self.app.db().begin().await?;
        let mut fresh = Vec::with_capacity(events.len());
        for event in events {
            if inbox::receive(&mut tx, event).await? {
                fresh.push(event);
            }
        }
        let actors: Vec<&procedo_proto::common::Actor> =
            fresh.iter().filter_map(|e| e.actor.as_ref()).collect();
        self.app.seen(&mut tx, &actors).await?;
        self.app.append(&mut tx, &fresh).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Deliver for OwnRecords {
    async fn deliver(&self, event: &Event) -> Outcome {
        match self.append(std::slice::from_ref(event)).await {
            Ok(()) => Outcome::Delivered("appended".into()),
            Err(e) => Outcome::Retry(e.to_string()),
        }
    }

    async fn deliver_many(&self, events: &[Event]) -> Option<Vec<Outcome>> {
        let outcome = match self.append(events).await {
            Ok(()) => Outcome::Delivered("appended".into()),
            Err(e) => Outcome::Retry(e.to_string()),
        };
        Some(vec![outcome; events.len()])
    }
}
