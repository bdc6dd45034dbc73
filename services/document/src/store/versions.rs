use procedo_platform::db::Database;
use procedo_platform::paging::Page;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::{decode_actor, encode_actor};
use crate::domain::version::Version;

const COLUMNS: &str = "document_id, version, content_sha256, size_bytes, media_type, file_name, \
    change_summary, author, created_at";

pub async fn insert_version(tx: &mut AnyConnection, v: &Version) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO versions (document_id, version, content_sha256, size_bytes, media_type, \
         file_name, change_summary, author, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&v.document_id)
    .bind(i64::from(v.version))
    .bind(&v.content_sha256)
    .bind(v.size_bytes)
    .bind(&v.media_type)
    .bind(&v.file_name)
    .bind(&v.change_summary)
    .bind(encode_actor(&v.author))
    .bind(v.created_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn get_version(
    conn: &mut AnyConnection,
    document_id: &str,
    version: i32,
) -> Result<Option<Version>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM versions WHERE document_id = $1 AND version = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(document_id)
        .bind(i64::from(version))
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(version_from_row)
        .transpose()
}

/// The contents of document `id`'s versions that no version of another
/// document, not disposed of, holds: what its disposal frees.
pub async fn orphaned_content(
    conn: &mut AnyConnection,
    document_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT v.content_sha256 FROM versions v WHERE v.document_id = $1 \
         AND NOT EXISTS (SELECT 1 FROM versions o JOIN documents d ON d.id = o.document_id \
                         WHERE o.content_sha256 = v.content_sha256 AND o.document_id <> $1 \
                         AND d.status <> 'DISPOSED')",
    )
    .bind(document_id)
    .fetch_all(&mut *conn)
    .await
}

/// Which of `contents` a version of a document still held (not disposed
/// of) refers to.
pub async fn referenced_content(
    conn: &mut AnyConnection,
    contents: &[String],
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    if contents.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    let marks = (1..=contents.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT DISTINCT v.content_sha256 FROM versions v JOIN documents d ON d.id = v.document_id \
         WHERE v.content_sha256 IN ({marks}) AND d.status <> 'DISPOSED'"
    );
    let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
    for sha256 in contents {
        query = query.bind(sha256);
    }
    Ok(query.fetch_all(&mut *conn).await?.into_iter().collect())
}

/// Newest first.
pub async fn list_versions(
    db: &Database,
    document_id: &str,
    page: &Page,
) -> Result<Vec<Version>, sqlx::Error> {
    let before = page.after_number().unwrap_or(i64::MAX);
    let sql = format!(
        "SELECT {COLUMNS} FROM versions WHERE document_id = $1 AND version < $2 \
         ORDER BY version DESC LIMIT $3"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(document_id)
        .bind(before)
        .bind(page.fetch_limit())
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(version_from_row)
        .collect()
}

fn version_from_row(row: &AnyRow) -> Result<Version, sqlx::Error> {
    Ok(Version {
        document_id: row.try_get("document_id")?,
        version: i32::try_from(row.try_get::<i64, _>("version")?).unwrap_or(0),
        content_sha256: row.try_get("content_sha256")?,
        size_bytes: row.try_get("size_bytes")?,
        media_type: row.try_get("media_type")?,
        file_name: row.try_get("file_name")?,
        change_summary: row.try_get("change_summary")?,
        author: decode_actor(row, "author")?,
        created_at: row.try_get("created_at")?,
    })
}
