//! The document service's use cases, one function each: the transaction,
//! the audit record, the request id. The API calls these with checked
//! domain values.

mod archive;
mod categories;
mod content;
mod documents;
pub mod events;
mod loans;
mod reviews;
mod signing;
mod versions;

use std::sync::Arc;

use procedo_platform::db::Database;
use procedo_platform::error::Error;
use procedo_platform::identity::Actor;
pub use procedo_platform::mutation::Call;
use procedo_platform::mutation::Mutations;
use procedo_platform::time::{Clock, Millis};
use sqlx::AnyConnection;

pub use content::repeat;
pub use events::COMPLIANCE;
pub use loans::Lendable;
pub use reviews::NewComment;
pub use signing::Verification;
pub use versions::Download;

use crate::blobs::Blobs;
use crate::domain::document::{Document, Refusal};
use crate::keys::Keys;
use crate::store;

/// The document service's use cases over its database and blob store.
#[derive(Debug, Clone)]
pub struct App {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    mutations: Mutations,
    blobs: Blobs,
    clock: Clock,
    /// The company's zone: the year in numbers follows it.
    zone: chrono_tz::Tz,
    /// The largest version accepted, in bytes.
    max_bytes: u64,
    /// The key the service signs with.
    keys: Keys,
    /// The company's calendars: loan periods count on them.
    calendars: procedo_platform::calendars::Calendars,
}

impl App {
    pub fn new(
        mutations: Mutations,
        blobs: Blobs,
        clock: Clock,
        zone: chrono_tz::Tz,
        max_bytes: u64,
        keys: Keys,
        calendars: procedo_platform::calendars::Calendars,
    ) -> App {
        App {
            inner: Arc::new(Inner {
                mutations,
                blobs,
                clock,
                zone,
                max_bytes,
                keys,
                calendars,
            }),
        }
    }

    /// "Now" as the domain reads it.
    pub fn now(&self) -> Millis {
        self.inner.clock.now()
    }

    fn mutations(&self) -> &Mutations {
        &self.inner.mutations
    }

    fn db(&self) -> &Database {
        self.inner.mutations.db()
    }
}

/// Document `id` as `actor` may see it: one they may not see does not
/// exist for them.
async fn visible(conn: &mut AnyConnection, id: &str, actor: &Actor) -> Result<Document, Error> {
    let not_found = || Error::NotFound(format!("documents/{id}"));
    let document = store::get_document(conn, id).await?.ok_or_else(not_found)?;
    if document.visible_to(actor) {
        return Ok(document);
    }
    let holds_loan = actor.clearance >= document.confidentiality
        && store::has_active_loan(conn, id, &actor.subject).await?;
    if document.visible_with_loan(actor, holds_loan) {
        Ok(document)
    } else {
        Err(not_found())
    }
}

fn refused(resource: &str, r: Refusal) -> Error {
    match r {
        Refusal::State(t) => Error::illegal(resource, t),
        Refusal::Denied(message) => Error::Denied(message),
        Refusal::Missing(description) => Error::Precondition {
            kind: "CONTENT",
            resource: resource.to_owned(),
            description,
        },
    }
}
