//! What a service keeps only for a while: delivered events (with their
//! attempts), the ids of events received (against redelivery) and request
//! ids (against retried calls). A sweep deletes them once older than their
//! retention, a batch at a time, so the tables stop growing without a long
//! lock. Pending and failed events are never deleted: they are work still
//! to do or to look at.

use std::time::Duration;

use crate::db::Database;
use crate::time::{Millis, duration_ms};

/// Rows deleted per statement.
const BATCH: i64 = 1_000;

/// How long each kind of row is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub delivered_events: Duration,
    pub received_events: Duration,
    pub request_ids: Duration,
}

/// How many rows one sweep deleted, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub delivered_events: u64,
    pub received_events: u64,
    pub request_ids: u64,
}

/// Deletes, as of `now`, what `retention` no longer keeps.
pub async fn prune(
    db: &Database,
    retention: &Retention,
    now: Millis,
) -> Result<Pruned, sqlx::Error> {
    let before = |keep: Duration| now.saturating_sub(duration_ms(keep));
    let mut pruned = Pruned::default();
    loop {
        let n = prune_delivered(db, before(retention.delivered_events)).await?;
        pruned.delivered_events += n;
        if n < BATCH as u64 {
            break;
        }
    }
    loop {
        let n = prune_by_age(
            db,
            "inbox",
            &["event_id"],
            "received_at",
            before(retention.received_events),
        )
        .await?;
        pruned.received_events += n;
        if n < BATCH as u64 {
            break;
        }
    }
    loop {
        let n = prune_by_age(
            db,
            "idempotency",
            &["scope", "request_id"],
            "created_at",
            before(retention.request_ids),
        )
        .await?;
        pruned.request_ids += n;
        if n < BATCH as u64 {
            break;
        }
    }
    Ok(pruned)
}

/// Deletes up to a batch of `table`'s rows whose `column` is before
/// `cutoff`, by their `key` columns (the store's own names, never input);
/// how many.
async fn prune_by_age(
    db: &Database,
    table: &str,
    key: &[&str],
    column: &str,
    cutoff: Millis,
) -> Result<u64, sqlx::Error> {
    use sqlx::Row as _;
    let mut tx = db.begin().await?;
    let sql = format!(
        "SELECT {} FROM {table} WHERE {column} < $1 ORDER BY {column} LIMIT $2",
        key.join(", ")
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(cutoff)
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let width = key.len();
    let tuples: Vec<String> = (0..rows.len())
        .map(|r| {
            let marks: Vec<String> = (1..=width).map(|k| format!("${}", r * width + k)).collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    let sql = format!(
        "DELETE FROM {table} WHERE ({}) IN ({})",
        key.join(", "),
        tuples.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for row in &rows {
        for k in 0..width {
            query = query.bind(row.try_get::<String, _>(k)?);
        }
    }
    query.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows.len() as u64)
}

/// Deletes up to a batch of events delivered before `cutoff`, attempts
/// first; how many events.
async fn prune_delivered(db: &Database, cutoff: Millis) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM outbox WHERE status = 'delivered' AND created_at < $1 ORDER BY created_at LIMIT $2",
    )
    .bind(cutoff)
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let list = marks.join(", ");
    for sql in [
        format!("DELETE FROM outbox_attempts WHERE event_id IN ({list})"),
        format!("DELETE FROM outbox WHERE id IN ({list})"),
    ] {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in &ids {
            query = query.bind(id);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(ids.len() as u64)
}
