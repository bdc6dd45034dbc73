//! Workflow's use cases, one function each: the transaction, the
//! orchestration (the engine's moves, the history, the audit records, the
//! progress events), the request id. The API calls these with checked
//! domain values; the event sink and the deadline timer call them too,
//! never the API.
//!
//! A mutation takes the [`Call`] (who, under which request id) and
//! `respond`, which turns the result into the response kept for a repeated
//! request id.

mod deadlines;
mod definitions;
mod instances;
mod matrix;
mod meetings;
mod progress;
mod tasks;
mod watchers;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use procedo_platform::calendars::Calendars;
use procedo_platform::db::Database;
use procedo_platform::error::Error;
use procedo_platform::identity::Actor;
pub use procedo_platform::mutation::Call;
use procedo_platform::mutation::Mutations;
use procedo_platform::outbox;
use procedo_platform::time::{Clock, Millis};
use sqlx::AnyConnection;

use crate::domain::definition::Definition;
use crate::domain::task::Refusal;
use crate::store::{self, NewHistory};

pub use deadlines::{SWEEP_BATCH, own_actor};
pub use definitions::Deployed;
pub use instances::NewInstance;
pub use matrix::Published;
pub use progress::SOURCE;
pub use tasks::TaskQuery;

/// Workflow's use cases over its database.
#[derive(Debug, Clone)]
pub struct App {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    mutations: Mutations,
    /// The company's calendars: task time limits count on them.
    calendars: Calendars,
    clock: Clock,
    /// The document service, when configured (see `documents`).
    documents: Option<procedo_platform::documents::Documents>,
    /// Deployed definitions never change: each (key, version) is decoded
    /// and validated once.
    definitions: Mutex<HashMap<(String, i32), Arc<Definition>>>,
    /// Watchers of instances, woken when their history grows.
    watchers: watchers::Watchers,
}

impl App {
    pub fn new(
        mutations: Mutations,
        calendars: Calendars,
        clock: Clock,
        documents: Option<procedo_platform::documents::Documents>,
    ) -> App {
        App {
            inner: Arc::new(Inner {
                mutations,
                calendars,
                clock,
                documents,
                definitions: Mutex::new(HashMap::new()),
                watchers: watchers::Watchers::default(),
            }),
        }
    }

    fn db(&self) -> &Database {
        self.inner.mutations.db()
    }

    /// "Now" as the domain reads it.
    pub fn now(&self) -> Millis {
        self.inner.clock.now()
    }

    fn mutations(&self) -> &Mutations {
        &self.inner.mutations
    }

    /// Tells watchers of `instance_id` its history grew (after commit).
    fn changed(&self, instance_id: &str) {
        self.inner.watchers.changed(instance_id);
    }

    /// Tells watchers of `instance_id` that a transaction the application
    /// layer did not commit itself (the event sink's) changed it.
    pub fn instance_changed(&self, instance_id: &str) {
        self.changed(instance_id);
    }

    /// Waits on changes of `instance_id` from now on.
    pub fn watch_changes(&self, instance_id: &str) -> watchers::Watching {
        self.inner.watchers.watch(instance_id)
    }
}

/// Records a change: its entry in the instance's history (when it has an
/// instance) and its audit record, `audit` about `resource`, with the
/// entry's detail.
#[allow(clippy::too_many_arguments)]
async fn record(
    tx: &mut AnyConnection,
    instance_id: Option<&str>,
    entry: NewHistory<'_>,
    audit: &str,
    resource: &str,
    actor: &Actor,
    now: Millis,
) -> Result<(), Error> {
    let detail = entry.detail.clone();
    if let Some(instance) = instance_id {
        store::append_history(tx, instance, entry, actor, now).await?;
    }
    outbox::audit(tx, SOURCE, actor, audit, resource, detail).await?;
    Ok(())
}

/// A domain refusal of a change to `resource`, as the caller is told.
fn refused(resource: &str, refusal: Refusal) -> Error {
    match refusal {
        Refusal::State(transition) => Error::illegal(resource, transition),
        Refusal::Denied(why) => Error::Denied(why),
        Refusal::Unfit(unfit) => Error::invalid(unfit.field, unfit.description),
        Refusal::OutOfTurn(why) => Error::Precondition {
            kind: "ORDER",
            resource: resource.to_owned(),
            description: why,
        },
    }
}
