//! Intake's use cases, one function each: the transaction, the
//! orchestration (the change, its history, its audit record, what the
//! customer and the workflow service are told), the request id. The API
//! calls these with checked domain values; the event sink and background
//! work call them too, never the API.
//!
//! A mutation takes the [`Call`] (who, under which request id) and
//! `respond`, which turns the result into the response kept for a repeated
//! request id; the application layer knows no protobuf of its own.

mod applications;
mod catalogue;
mod deadlines;
pub mod events;
mod inquiries;
mod ledger;
mod progress;
mod submissions;

use std::sync::Arc;

use procedo_platform::calendars::Calendars;
use procedo_platform::db::Database;
pub use procedo_platform::mutation::Call;
use procedo_platform::mutation::Mutations;
use procedo_platform::time::Clock;

use crate::domain::inquiry::ResponseLimits;

pub use ledger::LEDGER_EXPORT_BATCH;
pub use progress::ProgressReport;

/// Intake's use cases over its database.
#[derive(Debug, Clone)]
pub struct App {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    mutations: Mutations,
    limits: ResponseLimits,
    /// The company's calendars: deadlines count on them.
    calendars: Calendars,
    /// The company's time zone: ledger years follow it.
    zone: chrono_tz::Tz,
    clock: Clock,
    /// The document service materials' references are checked with.
    documents: Option<procedo_platform::documents::Documents>,
    /// Where submissions queue to be filed together, from the first on
    /// (started again should its filer ever stop).
    submissions: std::sync::Mutex<Option<tokio::sync::mpsc::Sender<submissions::Submission>>>,
}

impl App {
    pub fn new(
        mutations: Mutations,
        limits: ResponseLimits,
        calendars: Calendars,
        zone: chrono_tz::Tz,
        clock: Clock,
        documents: Option<procedo_platform::documents::Documents>,
    ) -> App {
        App {
            inner: Arc::new(Inner {
                mutations,
                limits,
                calendars,
                zone,
                clock,
                documents,
                submissions: std::sync::Mutex::new(None),
            }),
        }
    }

    /// "Now" as the domain reads it.
    pub fn now(&self) -> procedo_platform::time::Millis {
        self.inner.clock.now()
    }

    fn mutations(&self) -> &Mutations {
        &self.inner.mutations
    }

    fn db(&self) -> &Database {
        self.inner.mutations.db()
    }
}
