//! Every SQL statement of the compliance service, for SQLite and
//! PostgreSQL alike (sqlx's `Any` driver). Writes take the caller's
//! transaction.

mod audit;
mod filings;
mod inspections;
mod signals;

pub use audit::*;
pub use filings::*;
pub use inspections::*;
pub use signals::*;

use procedo_platform::rows::corrupt;
