//! Every SQL statement of the compliance service, for SQLite and
//! PostgreSQL alike (sqlx's `Any` driver). Writes take the caller's
//! transaction.

mod audit;

pub use audit::*;

use procedo_platform::rows::corrupt;
