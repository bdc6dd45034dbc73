//! `request_id` on mutations: repeating a request returns the first result.
//!
//! [`claim`] inserts the key before the work, inside the work's
//! transaction. A concurrent duplicate blocks on the key until the first
//! commits (PostgreSQL) or waits for the single writer (SQLite), then finds
//! the stored response. A rolled-back attempt leaves no key behind.

use prost::Message;
use sqlx::AnyConnection;

/// Claims `request_id` for `scope` (the RPC). `Some(response)` when an
/// earlier request with that id completed: return it and do nothing else.
pub async fn claim<M: Message + Default>(
    tx: &mut AnyConnection,
    scope: &str,
    request_id: Option<&str>,
) -> Result<Option<M>, sqlx::Error> {
    let Some(request_id) = request_id else {
        return Ok(None);
    };
    let inserted = sqlx::query(
        "INSERT INTO idempotency (scope, request_id, response, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (scope, request_id) DO NOTHING",
    )
    .bind(scope)
    .bind(request_id)
    .bind(Vec::<u8>::new())
    .bind(crate::time::now())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(None);
    }
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT response FROM idempotency WHERE scope = $1 AND request_id = $2")
            .bind(scope)
            .bind(request_id)
            .fetch_one(&mut *tx)
            .await?;
    M::decode(stored.as_slice())
        .map(Some)
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// Stores the response of a claimed request, in the same transaction.
pub async fn record<M: Message>(
    tx: &mut AnyConnection,
    scope: &str,
    request_id: Option<&str>,
    response: &M,
) -> Result<(), sqlx::Error> {
    if let Some(request_id) = request_id {
        sqlx::query("UPDATE idempotency SET response = $1 WHERE scope = $2 AND request_id = $3")
            .bind(response.encode_to_vec())
            .bind(scope)
            .bind(request_id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
