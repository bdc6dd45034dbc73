use procedo_platform::db::Database;
use procedo_platform::paging::Page;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::{StoreError, corrupt, decode_actor, encode_actor, expect_one, from_json, to_json};
use crate::domain::review::{Aspect, Comment, Round, RoundStatus};

const ROUND_COLUMNS: &str = "document_id, round, version, status, seats, submitted_by, \
    submitted_at, closed_at, row_version";

/// The number the next round of `document_id` takes.
pub async fn next_round(tx: &mut AnyConnection, document_id: &str) -> Result<i32, sqlx::Error> {
    let last: Option<i64> =
        sqlx::query_scalar("SELECT MAX(round) FROM review_rounds WHERE document_id = $1")
            .bind(document_id)
            .fetch_one(&mut *tx)
            .await?;
    Ok(i32::try_from(last.unwrap_or(0)).unwrap_or(i32::MAX - 1) + 1)
}

pub async fn insert_round(tx: &mut AnyConnection, r: &Round) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO review_rounds (document_id, round, version, status, seats, submitted_by, \
         submitted_at, closed_at, row_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&r.document_id)
    .bind(i64::from(r.round))
    .bind(i64::from(r.version))
    .bind(r.status.as_str())
    .bind(to_json(&r.seats))
    .bind(encode_actor(&r.submitted_by))
    .bind(r.submitted_at)
    .bind(r.closed_at)
    .bind(r.row_version)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn update_round(
    tx: &mut AnyConnection,
    r: &Round,
    read_version: i64,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE review_rounds SET status = $1, seats = $2, closed_at = $3, row_version = $4 \
         WHERE document_id = $5 AND round = $6 AND row_version = $7",
    )
    .bind(r.status.as_str())
    .bind(to_json(&r.seats))
    .bind(r.closed_at)
    .bind(r.row_version)
    .bind(&r.document_id)
    .bind(i64::from(r.round))
    .bind(read_version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    expect_one(updated)
}

pub async fn get_round(
    conn: &mut AnyConnection,
    document_id: &str,
    round: i32,
) -> Result<Option<Round>, sqlx::Error> {
    let sql =
        format!("SELECT {ROUND_COLUMNS} FROM review_rounds WHERE document_id = $1 AND round = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(document_id)
        .bind(i64::from(round))
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(round_from_row)
        .transpose()
}

/// Newest first.
pub async fn list_rounds(
    db: &Database,
    document_id: &str,
    page: &Page,
) -> Result<Vec<Round>, sqlx::Error> {
    let before = page.after_number().unwrap_or(i64::MAX);
    let sql = format!(
        "SELECT {ROUND_COLUMNS} FROM review_rounds WHERE document_id = $1 AND round < $2 \
         ORDER BY round DESC LIMIT $3"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(document_id)
        .bind(before)
        .bind(page.fetch_limit())
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(round_from_row)
        .collect()
}

fn round_from_row(row: &AnyRow) -> Result<Round, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(Round {
        document_id: row.try_get("document_id")?,
        round: i32::try_from(row.try_get::<i64, _>("round")?).unwrap_or(0),
        version: i32::try_from(row.try_get::<i64, _>("version")?).unwrap_or(0),
        status: RoundStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        seats: from_json(row, "seats")?,
        submitted_by: decode_actor(row, "submitted_by")?,
        submitted_at: row.try_get("submitted_at")?,
        closed_at: row.try_get("closed_at")?,
        row_version: row.try_get("row_version")?,
    })
}

/// Adds `c` as the next comment of its round; its position.
pub async fn insert_comment(tx: &mut AnyConnection, c: &Comment) -> Result<i64, sqlx::Error> {
    let seq: i64 = sqlx::query_scalar::<_, Option<i64>>(
        "SELECT MAX(seq) FROM review_comments WHERE document_id = $1 AND round = $2",
    )
    .bind(&c.document_id)
    .bind(i64::from(c.round))
    .fetch_one(&mut *tx)
    .await?
    .unwrap_or(0)
        + 1;
    sqlx::query(
        "INSERT INTO review_comments (document_id, round, seq, version, aspect, anchor, body, \
         author, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&c.document_id)
    .bind(i64::from(c.round))
    .bind(seq)
    .bind(i64::from(c.version))
    .bind(c.aspect.as_str())
    .bind(&c.anchor)
    .bind(&c.text)
    .bind(encode_actor(&c.author))
    .bind(c.at)
    .execute(&mut *tx)
    .await?;
    Ok(seq)
}

/// Oldest first.
pub async fn list_comments(
    db: &Database,
    document_id: &str,
    round: i32,
    page: &Page,
) -> Result<Vec<Comment>, sqlx::Error> {
    let after = page.after_number().unwrap_or(0);
    sqlx::query(
        "SELECT document_id, round, seq, version, aspect, anchor, body, author, at \
         FROM review_comments WHERE document_id = $1 AND round = $2 AND seq > $3 \
         ORDER BY seq LIMIT $4",
    )
    .bind(document_id)
    .bind(i64::from(round))
    .bind(after)
    .bind(page.fetch_limit())
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(comment_from_row)
    .collect()
}

fn comment_from_row(row: &AnyRow) -> Result<Comment, sqlx::Error> {
    let aspect: String = row.try_get("aspect")?;
    Ok(Comment {
        document_id: row.try_get("document_id")?,
        round: i32::try_from(row.try_get::<i64, _>("round")?).unwrap_or(0),
        seq: row.try_get("seq")?,
        version: i32::try_from(row.try_get::<i64, _>("version")?).unwrap_or(0),
        aspect: Aspect::parse(&aspect).ok_or_else(|| corrupt("aspect", &aspect))?,
        anchor: row.try_get("anchor")?,
        text: row.try_get("body")?,
        author: decode_actor(row, "author")?,
        at: row.try_get("at")?,
    })
}
