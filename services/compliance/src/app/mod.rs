//! The application layer: each use case reads and writes through
//! [`crate::store`] in its own transaction.

mod audit;

use std::sync::Arc;

use procedo_platform::db::Database;
use procedo_platform::mutation::Mutations;
use procedo_platform::time::{Clock, Millis};

pub use audit::{Consistency, Inclusion, LogKey, new_entry};

/// The compliance service's use cases.
#[derive(Debug, Clone)]
pub struct App {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    mutations: Mutations,
    clock: Clock,
    /// The audit log's origin and signing key.
    key: LogKey,
}

impl App {
    pub fn new(mutations: Mutations, clock: Clock, key: LogKey) -> App {
        App {
            inner: Arc::new(Inner {
                mutations,
                clock,
                key,
            }),
        }
    }

    /// "Now" as the domain reads it.
    pub fn now(&self) -> Millis {
        self.inner.clock.now()
    }

    pub fn origin(&self) -> &str {
        &self.inner.key.origin
    }

    fn db(&self) -> &Database {
        self.inner.mutations.db()
    }
}
