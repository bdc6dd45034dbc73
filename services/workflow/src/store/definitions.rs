use procedo_platform::db::Database;
use procedo_platform::identity::Actor;
use procedo_platform::paging::Page;
use procedo_platform::time::Millis;
use sqlx::{AnyConnection, Row as _};

use super::encode_actor;

/// A stored definition: its encoded `ProcessDefinition` and who deployed it.
#[derive(Debug, Clone)]
pub struct StoredDefinition {
    pub key: String,
    pub version: i32,
    pub body: Vec<u8>,
    pub deployed_by: Actor,
    pub created_at: Millis,
}

fn stored(row: &sqlx::any::AnyRow) -> Result<StoredDefinition, sqlx::Error> {
    Ok(StoredDefinition {
        key: row.try_get("key")?,
        version: i32::try_from(row.try_get::<i64, _>("version")?).unwrap_or(i32::MAX),
        body: row.try_get("body")?,
        deployed_by: super::actor(row, "deployed_by")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The latest version of `key`, or a given one.
#[tracing::instrument(skip_all, fields(key = %key))]
pub async fn get_definition(
    conn: &mut AnyConnection,
    key: &str,
    version: Option<i32>,
) -> Result<Option<StoredDefinition>, sqlx::Error> {
    sqlx::query(
        "SELECT key, version, body, deployed_by, created_at FROM definitions \
         WHERE key = $1 AND ($2 = 0 OR version = $2) ORDER BY version DESC LIMIT 1",
    )
    .bind(key)
    .bind(i64::from(version.unwrap_or(0)))
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(stored)
    .transpose()
}

#[tracing::instrument(skip_all, fields(key = %key))]
pub async fn insert_definition(
    tx: &mut AnyConnection,
    key: &str,
    version: i32,
    display_name: &str,
    body: &[u8],
    actor: &Actor,
    now: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO definitions (key, version, display_name, body, deployed_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key)
    .bind(i64::from(version))
    .bind(display_name)
    .bind(body)
    .bind(encode_actor(actor))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The latest version of each key, by key.
#[tracing::instrument(skip_all)]
pub async fn list_definitions(
    db: &Database,
    page: &Page,
) -> Result<Vec<StoredDefinition>, sqlx::Error> {
    sqlx::query(
        "SELECT d.key, d.version, d.body, d.deployed_by, d.created_at FROM definitions d \
         WHERE d.version = (SELECT MAX(v.version) FROM definitions v WHERE v.key = d.key) \
         AND ($1 = '' OR d.key > $1) ORDER BY d.key LIMIT $2",
    )
    .bind(page.after.as_deref().unwrap_or(""))
    .bind(page.fetch_limit())
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(stored)
    .collect()
}

/// The matrix in force at `at` (the latest effective by then), or a given
/// version: `(version, body)`.
#[tracing::instrument(skip_all)]
pub async fn get_matrix(
    conn: &mut AnyConnection,
    version: Option<i32>,
    at: Millis,
) -> Result<Option<(i32, Vec<u8>)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT version, body FROM matrices WHERE ($1 = 0 AND effective_at <= $2) OR version = $1 \
         ORDER BY effective_at DESC, version DESC LIMIT 1",
    )
    .bind(i64::from(version.unwrap_or(0)))
    .bind(at)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        let version: i64 = r.try_get("version")?;
        Ok((
            i32::try_from(version).unwrap_or(i32::MAX),
            r.try_get("body")?,
        ))
    })
    .transpose()
}

/// Stores the next matrix version; returns it.
#[tracing::instrument(skip_all)]
pub async fn insert_matrix(
    tx: &mut AnyConnection,
    effective_at: Millis,
    body: &[u8],
    now: Millis,
) -> Result<i32, sqlx::Error> {
    let version: i64 =
        sqlx::query_scalar("SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM matrices")
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query(
        "INSERT INTO matrices (version, effective_at, body, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(version)
    .bind(effective_at)
    .bind(body)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(i32::try_from(version).unwrap_or(i32::MAX))
}
