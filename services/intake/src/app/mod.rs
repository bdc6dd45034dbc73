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
pub mod events;
mod inquiries;
mod ledger;
mod progress;

use std::sync::Arc;

use procedo_platform::calendar::Calendar;
use procedo_platform::db::Database;
pub use procedo_platform::mutation::Call;
use procedo_platform::mutation::Mutations;

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
    /// The company's calendar: response deadlines count on it, and ledger
    /// years follow its zone.
    calendar: Calendar,
}

impl App {
    pub fn new(mutations: Mutations, limits: ResponseLimits, calendar: Calendar) -> App {
        App {
            inner: Arc::new(Inner {
                mutations,
                limits,
                calendar,
            }),
        }
    }

    fn mutations(&self) -> &Mutations {
        &self.inner.mutations
    }

    fn db(&self) -> &Database {
        self.inner.mutations.db()
    }
}
