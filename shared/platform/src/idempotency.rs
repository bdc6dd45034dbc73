//! `request_id` on mutations: repeating a request returns the first result;
//! using the id again with a different request is refused.
//!
//! [`claim`] (or [`claim_many`], for work done in batches) inserts the key before the work, inside the work's
//! transaction. A concurrent duplicate blocks on the key until the first
//! commits (PostgreSQL) or waits for the single writer (SQLite), then finds
//! the stored response. A rolled-back attempt leaves no key behind.

use prost::Message;
use sha2::Digest as _;
use sqlx::{AnyConnection, Row as _};

use crate::db::Backend;
use crate::error::Error;

/// A request id, and the digest of the request it came with: a repeat
/// with the same id and other content is a different request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId {
    pub id: String,
    digest: Vec<u8>,
}

impl RequestId {
    /// `id` as given with `request`.
    pub fn new(id: String, request: &impl Message) -> RequestId {
        RequestId {
            id,
            digest: sha2::Sha256::digest(request.encode_to_vec()).to_vec(),
        }
    }
}

/// A request id claimed under `scope` (the use case and the caller).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub scope: String,
    pub request: RequestId,
}

/// What an earlier request with the same id left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// None: the request is new; it is claimed in this transaction.
    Fresh,
    /// The same request completed: its response, to be returned as is.
    Kept(Vec<u8>),
    /// A different request used this id.
    Conflict,
}

/// INVALID_ARGUMENT for a request id used before with a different
/// request to `rpc`.
pub fn conflict(rpc: &str) -> Error {
    Error::invalid(
        "request_id",
        format!(
            "was used before with a different {rpc} request; send a new request_id for a \
             new request, and repeat one only to retry the very same request"
        ),
    )
}

/// Claims `request_id` for `scope` (the use case and the caller), `rpc`
/// naming the call in errors. `Some(response)` when the same request with
/// that id completed: return it and do nothing else; INVALID_ARGUMENT
/// when a different request used the id.
pub async fn claim<M: Message + Default>(
    tx: &mut AnyConnection,
    scope: &str,
    rpc: &str,
    request_id: Option<&RequestId>,
) -> Result<Option<M>, Error> {
    let Some(request) = request_id else {
        return Ok(None);
    };
    let key = Key {
        scope: scope.to_owned(),
        request: request.clone(),
    };
    match claim_many(tx, &[key]).await?.pop() {
        None | Some(Claimed::Fresh) => Ok(None),
        Some(Claimed::Conflict) => Err(conflict(rpc)),
        Some(Claimed::Kept(stored)) => M::decode(stored.as_slice())
            .map(Some)
            .map_err(|e| Error::from(sqlx::Error::Decode(Box::new(e)))),
    }
}

/// Stores the response of a claimed request, in the same transaction.
pub async fn record<M: Message>(
    tx: &mut AnyConnection,
    scope: &str,
    request_id: Option<&RequestId>,
    response: &M,
) -> Result<(), sqlx::Error> {
    let Some(request) = request_id else {
        return Ok(());
    };
    let stored = (
        scope.to_owned(),
        request.id.clone(),
        response.encode_to_vec(),
    );
    record_many(tx, &[stored]).await
}

/// Claims many request ids at once, as [`claim`] claims one. The keys
/// must be distinct.
pub async fn claim_many(tx: &mut AnyConnection, keys: &[Key]) -> Result<Vec<Claimed>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "INSERT INTO idempotency (scope, request_id, response, created_at, request_digest) \
         VALUES {} ON CONFLICT (scope, request_id) DO NOTHING RETURNING scope, request_id",
        crate::query::values(Backend::of(tx), keys.len(), 5)
    );
    let now = crate::time::now();
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for key in keys {
        query = query
            .bind(key.scope.as_str())
            .bind(key.request.id.as_str())
            .bind(Vec::<u8>::new())
            .bind(now)
            .bind(key.request.digest.as_slice());
    }
    let claimed: std::collections::HashSet<(String, String)> = query
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let mut answers = Vec::with_capacity(keys.len());
    for key in keys {
        if claimed.contains(&(key.scope.clone(), key.request.id.clone())) {
            answers.push(Claimed::Fresh);
            continue;
        }
        // Repeats are rare: one read each.
        let row = sqlx::query(
            "SELECT response, request_digest FROM idempotency \
             WHERE scope = $1 AND request_id = $2",
        )
        .bind(key.scope.as_str())
        .bind(key.request.id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let digest: Vec<u8> = row.try_get(1)?;
        // Ids kept from before digests were kept are not compared.
        answers.push(if digest.is_empty() || digest == key.request.digest {
            Claimed::Kept(row.try_get(0)?)
        } else {
            Claimed::Conflict
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
pub async fn release(tx: &mut AnyConnection, keys: &[Key]) -> Result<(), sqlx::Error> {
    for key in keys {
        sqlx::query("DELETE FROM idempotency WHERE scope = $1 AND request_id = $2")
            .bind(key.scope.as_str())
            .bind(key.request.id.as_str())
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
