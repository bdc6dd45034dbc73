//! Obligations and filings. Filings list by due time, soonest first; the
//! page cursor is "{due_at}:{id}".

use procedo_platform::db::Database;
use procedo_platform::rows::{StoreError, expect_one, json, to_json};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::domain::filing::{Filing, FilingStatus, Obligation};

fn all<T: serde::de::DeserializeOwned>(rows: &[AnyRow]) -> Result<Vec<T>, sqlx::Error> {
    rows.iter().map(|r| json(r, "data")).collect()
}

pub async fn insert_obligation(tx: &mut AnyConnection, o: &Obligation) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO obligations (id, active, data, created_at, row_version) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&o.id)
    .bind(i64::from(o.active))
    .bind(to_json(o))
    .bind(o.created_at)
    .bind(o.row_version)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn update_obligation(
    tx: &mut AnyConnection,
    o: &Obligation,
    read: i64,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE obligations SET active = $1, data = $2, row_version = $3 WHERE id = $4 AND row_version = $5",
    )
    .bind(i64::from(o.active))
    .bind(to_json(o))
    .bind(o.row_version)
    .bind(&o.id)
    .bind(read)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    expect_one(updated)
}

pub async fn get_obligation(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Obligation>, sqlx::Error> {
    super::record(conn, "obligations", id).await
}

/// Newest first.
pub async fn list_obligations(
    db: &Database,
    include_retired: bool,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Obligation>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT data FROM obligations WHERE ($1 = 1 OR active = 1) AND ($2 = '' OR id < $2) \
         ORDER BY id DESC LIMIT $3",
    )
    .bind(i64::from(include_retired))
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    all(&rows)
}

/// Active obligations by id after `after`: what the timer generates for.
pub async fn active_obligations(
    conn: &mut AnyConnection,
    after: &str,
    limit: i64,
) -> Result<Vec<Obligation>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT data FROM obligations WHERE active = 1 AND id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    all(&rows)
}

/// The periods of `obligation_id` that already have a filing.
pub async fn filed_periods(
    conn: &mut AnyConnection,
    obligation_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT period FROM filings WHERE obligation_id = $1")
        .bind(obligation_id)
        .fetch_all(&mut *conn)
        .await
}

/// Inserts `f` unless its period has one already (another replica's
/// timer); whether it did.
pub async fn insert_filing(tx: &mut AnyConnection, f: &Filing) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO filings (id, obligation_id, period, status, responsible, escalate_to, due_at, \
         remind_at, reminded_at, escalated_at, data, created_at, row_version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (obligation_id, period) DO NOTHING",
    )
    .bind(&f.id)
    .bind(&f.obligation_id)
    .bind(&f.period)
    .bind(f.status.as_str())
    .bind(&f.responsible)
    .bind(&f.escalate_to)
    .bind(f.deadline.due)
    .bind(f.remind_at)
    .bind(f.reminded_at)
    .bind(f.escalated_at)
    .bind(to_json(f))
    .bind(f.created_at)
    .bind(f.row_version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn update_filing(
    tx: &mut AnyConnection,
    f: &Filing,
    read: i64,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE filings SET status = $1, reminded_at = $2, escalated_at = $3, data = $4, row_version = $5 \
         WHERE id = $6 AND row_version = $7",
    )
    .bind(f.status.as_str())
    .bind(f.reminded_at)
    .bind(f.escalated_at)
    .bind(to_json(f))
    .bind(f.row_version)
    .bind(&f.id)
    .bind(read)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    expect_one(updated)
}

pub async fn get_filing(conn: &mut AnyConnection, id: &str) -> Result<Option<Filing>, sqlx::Error> {
    super::record(conn, "filings", id).await
}

/// Which filings a list reads.
#[derive(Debug, Clone, Default)]
pub struct FilingFilter {
    pub obligation_id: String,
    pub status: Option<FilingStatus>,
    /// Only those this subject is responsible for or escalated to.
    pub person: String,
    /// Only pending ones whose remind time is at or before this and whose
    /// due time is at or after it.
    pub upcoming_at: Option<i64>,
    /// Only pending ones due before this.
    pub overdue_at: Option<i64>,
}

/// Soonest due first, after the cursor (`due_at`, `id`).
pub async fn list_filings(
    db: &Database,
    f: &FilingFilter,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<Filing>, sqlx::Error> {
    let (after_due, after_id) = after.unwrap_or((i64::MIN, ""));
    let status = match (f.upcoming_at.or(f.overdue_at), f.status) {
        (Some(_), _) => FilingStatus::Pending.as_str(),
        (None, Some(s)) => s.as_str(),
        (None, None) => "",
    };
    let rows = sqlx::query(
        "SELECT data FROM filings WHERE ($1 = '' OR obligation_id = $1) AND ($2 = '' OR status = $2) \
         AND ($3 = '' OR responsible = $3 OR escalate_to = $3) \
         AND ($4 = 0 OR (remind_at <= $4 AND due_at >= $4)) AND ($5 = 0 OR due_at < $5) \
         AND (due_at > $6 OR (due_at = $6 AND id > $7)) ORDER BY due_at, id LIMIT $8",
    )
    .bind(&f.obligation_id)
    .bind(status)
    .bind(&f.person)
    .bind(f.upcoming_at.unwrap_or(0))
    .bind(f.overdue_at.unwrap_or(0))
    .bind(after_due)
    .bind(after_id)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    all(&rows)
}

/// Pending filings whose remind time came, not yet reminded.
pub async fn filings_to_remind(
    conn: &mut AnyConnection,
    now: i64,
    limit: i64,
) -> Result<Vec<Filing>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT data FROM filings WHERE status = 'PENDING' AND reminded_at IS NULL AND remind_at <= $1 \
         ORDER BY remind_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    all(&rows)
}

/// Pending filings past their due time, not yet escalated.
pub async fn filings_overdue(
    conn: &mut AnyConnection,
    now: i64,
    limit: i64,
) -> Result<Vec<Filing>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT data FROM filings WHERE status = 'PENDING' AND escalated_at IS NULL AND due_at < $1 \
         ORDER BY due_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    all(&rows)
}
