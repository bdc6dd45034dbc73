//! The `calendars` table (each calendar's current version) and
//! `calendar_versions` (every version, forever), in each service's schema.

use sqlx::{AnyConnection, Row as _};

use super::Stored;
use crate::calendar::Calendar;

macro_rules! select {
    ($table:literal, $rest:literal) => {
        concat!(
            "SELECT id, title, definition, is_default, version, updated_at FROM ",
            $table,
            " ",
            $rest
        )
    };
}

fn read(row: &sqlx::any::AnyRow) -> Result<Stored, sqlx::Error> {
    let id: String = row.try_get("id")?;
    let definition: String = row.try_get("definition")?;
    // What was stored was checked; a row that no longer reads is a
    // corrupted database, said as such.
    let calendar = Calendar::from_yaml(&definition, chrono_tz::UTC)
        .map_err(|e| sqlx::Error::Decode(format!("calendar {id}: {e}").into()))?;
    Ok(Stored {
        title: row.try_get("title")?,
        calendar,
        company_default: row.try_get::<i64, _>("is_default")? != 0,
        version: row.try_get("version")?,
        updated_at: row.try_get("updated_at")?,
        id,
    })
}

/// Every calendar's current version, by id.
pub async fn all(conn: &mut AnyConnection) -> Result<Vec<Stored>, sqlx::Error> {
    sqlx::query(select!("calendars", "ORDER BY id"))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(read)
        .collect()
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Stored>, sqlx::Error> {
    sqlx::query(select!("calendars", "WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(read)
        .transpose()
}

/// Each calendar's id, current version and default flag, by id: what a
/// refresh compares before reading (and parsing) any calendar.
pub async fn versions_held(
    conn: &mut AnyConnection,
) -> Result<Vec<(String, i64, bool)>, sqlx::Error> {
    sqlx::query("SELECT id, version, is_default FROM calendars ORDER BY id")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get("id")?,
                row.try_get("version")?,
                row.try_get::<i64, _>("is_default")? != 0,
            ))
        })
        .collect()
}

/// The version stored of calendar `id`; 0 when there is none.
pub async fn version(conn: &mut AnyConnection, id: &str) -> Result<i64, sqlx::Error> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT version FROM calendars WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .unwrap_or(0),
    )
}

/// Versions of calendar `id` older than `before`, newest first.
pub async fn versions(
    conn: &mut AnyConnection,
    id: &str,
    before: i64,
    limit: i64,
) -> Result<Vec<Stored>, sqlx::Error> {
    sqlx::query(select!(
        "calendar_versions",
        "WHERE id = $1 AND version < $2 ORDER BY version DESC LIMIT $3"
    ))
    .bind(id)
    .bind(before)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(read)
    .collect()
}

/// Makes `stored` the current version of its calendar and keeps it among
/// the versions; the default flag leaves the others when it carries it.
pub async fn put(
    tx: &mut AnyConnection,
    stored: &Stored,
    changed_by: &str,
) -> Result<(), sqlx::Error> {
    let definition = stored.calendar.to_yaml();
    let is_default = i64::from(stored.company_default);
    if stored.company_default {
        sqlx::query("UPDATE calendars SET is_default = 0 WHERE id <> $1 AND is_default <> 0")
            .bind(&stored.id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO calendars (id, title, definition, is_default, version, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, definition = excluded.definition, \
         is_default = excluded.is_default, version = excluded.version, \
         updated_at = excluded.updated_at",
    )
    .bind(&stored.id)
    .bind(&stored.title)
    .bind(&definition)
    .bind(is_default)
    .bind(stored.version)
    .bind(stored.updated_at)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO calendar_versions (id, version, title, definition, is_default, updated_at, \
         changed_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&stored.id)
    .bind(stored.version)
    .bind(&stored.title)
    .bind(&definition)
    .bind(is_default)
    .bind(stored.updated_at)
    .bind(changed_by)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
