//! Every SQL statement of the compliance service, for SQLite and
//! PostgreSQL alike (sqlx's `Any` driver). Writes take the caller's
//! transaction.

mod assessment;
mod audit;
mod directory;
mod facts;
mod filings;
mod inspections;
mod training;

pub use assessment::*;
pub use audit::*;
pub use directory::*;
pub use facts::*;
pub use filings::*;
pub use inspections::*;
pub use training::*;

use procedo_platform::rows::corrupt;

/// The record kept whole as JSON in `table`'s row `id`; the tables are the
/// store's own names, never input.
async fn record<T: serde::de::DeserializeOwned>(
    conn: &mut sqlx::AnyConnection,
    table: &'static str,
    id: &str,
) -> Result<Option<T>, sqlx::Error> {
    let sql = format!("SELECT data FROM {table} WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| procedo_platform::rows::json(&r, "data"))
        .transpose()
}
