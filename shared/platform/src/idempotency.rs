//! `request_id` on mutations: repeating a request returns the first result.
//!
//! [`claim`] (or [`claim_many`], for work done in batches) inserts the key before the work, inside the work's
//! transaction. A concurrent duplicate blocks on the key until the first
//! commits (PostgreSQL) or waits for the single writer (SQLite), then finds
//! the stored response. A rolled-back attempt leaves no key behind.

use prost::Message;
use sqlx::{AnyConnection, Row as _};

use crate::db::Backend;

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
    let key = (scope.to_owned(), request_id.to_owned());
    match claim_many(tx, &[key]).await?.pop().flatten() {
        None => Ok(None),
        Some(stored) => M::decode(stored.as_slice())
            .map(Some)
            .map_err(|e| sqlx::Error::Decode(Box::new(e))),
    }
}

/// Stores the response of a claimed request, in the same transaction.
pub async fn record<M: Message>(
    tx: &mut AnyConnection,
    scope: &str,
    request_id: Option<&str>,
    response: &M,
) -> Result<(), sqlx::Error> {
    let Some(request_id) = request_id else {
        return Ok(());
    };
    let stored = (
        scope.to_owned(),
        request_id.to_owned(),
        response.encode_to_vec(),
    );
    record_many(tx, &[stored]).await
}

/// Claims many request ids at once, as [`claim`] claims one: for each
/// `(scope, request_id)`, `Some(response)` when an earlier request with
/// that id completed. The pairs must be distinct.
pub async fn claim_many(
    tx: &mut AnyConnection,
    keys: &[(String, String)],
) -> Result<Vec<Option<Vec<u8>>>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "INSERT INTO idempotency (scope, request_id, response, created_at) VALUES {} \
         ON CONFLICT (scope, request_id) DO NOTHING RETURNING scope, request_id",
        crate::query::values(Backend::of(tx), keys.len(), 4)
    );
    let now = crate::time::now();
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (scope, request_id) in keys {
        query = query
            .bind(scope.as_str())
            .bind(request_id.as_str())
            .bind(Vec::<u8>::new())
            .bind(now);
    }
    let claimed: std::collections::HashSet<(String, String)> = query
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let mut answers = Vec::with_capacity(keys.len());
    for key in keys {
        answers.push(if claimed.contains(key) {
            None
        } else {
            // Repeats are rare: one read each.
            Some(
                sqlx::query_scalar(
                    "SELECT response FROM idempotency WHERE scope = $1 AND request_id = $2",
                )
                .bind(key.0.as_str())
                .bind(key.1.as_str())
                .fetch_one(&mut *tx)
                .await?,
            )
        });
    }
    Ok(answers)
}

/// Stores the responses of claimed requests `(scope, request_id,
/// response)`, in one statement.
pub async fn record_many(
    tx: &mut AnyConnection,
    responses: &[(String, String, Vec<u8>)],
) -> Result<(), sqlx::Error> {
    if responses.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE idempotency SET response = v.column3 FROM (VALUES {}) AS v \
         WHERE idempotency.scope = v.column1 AND idempotency.request_id = v.column2",
        crate::query::values(Backend::of(tx), responses.len(), 3)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (scope, request_id, response) in responses {
        query = query
            .bind(scope.as_str())
            .bind(request_id.as_str())
            .bind(response.as_slice());
    }
    query.execute(&mut *tx).await?;
    Ok(())
}

/// Gives up claims made in this transaction whose requests failed, so that
/// a retry runs afresh.
pub async fn release(tx: &mut AnyConnection, keys: &[(String, String)]) -> Result<(), sqlx::Error> {
    for (scope, request_id) in keys {
        sqlx::query("DELETE FROM idempotency WHERE scope = $1 AND request_id = $2")
            .bind(scope.as_str())
            .bind(request_id.as_str())
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
