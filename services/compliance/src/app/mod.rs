//! The application layer: each use case reads and writes through
//! [`crate::store`] in its own transaction, and every change queues its
//! audit record.

mod assessment;
mod audit;
mod directory;
pub mod events;
pub mod facts;
mod filings;
mod inspections;
mod notices;
mod training;

use std::sync::Arc;

use procedo_platform::calendars::Calendars;
use procedo_platform::db::Database;
use procedo_platform::mutation::Mutations;
use procedo_platform::time::{Clock, Millis};

pub use assessment::{ManualScore, RecordRequest};
pub use audit::{Consistency, Inclusion, LogKey, new_entry};
pub use filings::ObligationRequest;
pub use inspections::{Checklist, FindingRequest, InspectionRequest};
pub use notices::{Due, NoticeRequest, Step};
pub use training::{AckState, Effectiveness, Enrolled, PublicationRequest, SessionRequest};

use crate::sources::Sources;

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
    /// The company's calendars: notice deadlines count on them.
    calendars: Calendars,
    /// The services inspections sample from.
    sources: Sources,
    /// The company's zone: filing periods are its months, quarters, years.
    zone: chrono_tz::Tz,
    /// Who the directory has seen as their token says.
    seen: directory::Seen,
    /// The document service policies are checked with, when configured.
    documents: Option<procedo_platform::documents::Documents>,
}

impl App {
    pub fn new(
        mutations: Mutations,
        clock: Clock,
        key: LogKey,
        calendars: Calendars,
        sources: Sources,
        zone: chrono_tz::Tz,
        documents: Option<procedo_platform::documents::Documents>,
    ) -> App {
        App {
            inner: Arc::new(Inner {
                mutations,
                clock,
                key,
                calendars,
                sources,
                zone,
                seen: directory::Seen::default(),
                documents,
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

    fn mutations(&self) -> &Mutations {
        &self.inner.mutations
    }

    fn calendars(&self) -> &Calendars {
        &self.inner.calendars
    }

    fn sources(&self) -> &Sources {
        &self.inner.sources
    }

    fn zone(&self) -> chrono_tz::Tz {
        self.inner.zone
    }

    fn documents(&self) -> Option<&procedo_platform::documents::Documents> {
        self.inner.documents.as_ref()
    }

    fn seen_cache(&self) -> &std::sync::Mutex<std::collections::HashMap<String, u64>> {
        &self.inner.seen.0
    }
}
