use procedo_platform::db::Database;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::{corrupt, decode_actor, encode_actor};
use crate::domain::signing::{Intent, SignatureRecord};

const COLUMNS: &str = "document_id, seq, version, content_sha256, signer, intent, signed_at, \
    key_id, signature, statement";

/// Makes `key_id` the active key and keeps every earlier one listed.
pub async fn register_key(
    db: &Database,
    key_id: &str,
    public_key: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE signing_keys SET active = 0 WHERE key_id <> $1 AND active <> 0")
        .bind(key_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO signing_keys (key_id, public_key, active, created_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (key_id) DO UPDATE SET active = 1",
    )
    .bind(key_id)
    .bind(public_key)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Every key: (id, public key, active, created at), oldest first.
pub async fn keys(db: &Database) -> Result<Vec<(String, String, bool, i64)>, sqlx::Error> {
    sqlx::query("SELECT key_id, public_key, active, created_at FROM signing_keys ORDER BY created_at, key_id")
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get("key_id")?,
                row.try_get("public_key")?,
                row.try_get::<i64, _>("active")? != 0,
                row.try_get("created_at")?,
            ))
        })
        .collect()
}

/// Adds `s` as the document's next signature; its position.
pub async fn insert_signature(
    tx: &mut AnyConnection,
    s: &SignatureRecord,
) -> Result<i64, sqlx::Error> {
    let seq: i64 = sqlx::query_scalar::<_, Option<i64>>(
        "SELECT MAX(seq) FROM signatures WHERE document_id = $1",
    )
    .bind(&s.document_id)
    .fetch_one(&mut *tx)
    .await?
    .unwrap_or(0)
        + 1;
    sqlx::query(
        "INSERT INTO signatures (document_id, seq, version, content_sha256, signer, intent, \
         signed_at, key_id, signature, statement) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&s.document_id)
    .bind(seq)
    .bind(i64::from(s.version))
    .bind(&s.content_sha256)
    .bind(encode_actor(&s.signer))
    .bind(s.intent.as_str())
    .bind(s.at)
    .bind(&s.key_id)
    .bind(&s.signature)
    .bind(&s.statement)
    .execute(&mut *tx)
    .await?;
    Ok(seq)
}

/// A document's signatures, oldest first (of one version when given).
pub async fn signatures(
    conn: &mut AnyConnection,
    document_id: &str,
    version: Option<i32>,
) -> Result<Vec<SignatureRecord>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM signatures WHERE document_id = $1 AND ($2 = 0 OR version = $2) \
         ORDER BY seq"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(document_id)
        .bind(i64::from(version.unwrap_or(0)))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(signature_from_row)
        .collect()
}

fn signature_from_row(row: &AnyRow) -> Result<SignatureRecord, sqlx::Error> {
    let intent: String = row.try_get("intent")?;
    Ok(SignatureRecord {
        document_id: row.try_get("document_id")?,
        seq: row.try_get("seq")?,
        version: i32::try_from(row.try_get::<i64, _>("version")?).unwrap_or(0),
        content_sha256: row.try_get("content_sha256")?,
        signer: decode_actor(row, "signer")?,
        intent: Intent::parse(&intent).ok_or_else(|| corrupt("intent", &intent))?,
        at: row.try_get("signed_at")?,
        key_id: row.try_get("key_id")?,
        signature: row.try_get("signature")?,
        statement: row.try_get("statement")?,
    })
}
