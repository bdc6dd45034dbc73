//! Reading and writing the column shapes every store uses: actors as
//! encoded protobuf, lists and small records as JSON text, and versioned
//! updates that touch exactly one row.

use prost::Message as _;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::identity::Actor;

/// An actor as stored: the encoded `procedo.common.v1.Actor`.
pub fn encode_actor(actor: &Actor) -> Vec<u8> {
    actor.to_proto().encode_to_vec()
}

/// The actor stored in `column`.
pub fn actor(row: &AnyRow, column: &str) -> Result<Actor, sqlx::Error> {
    let bytes: Vec<u8> = row.try_get(column)?;
    let proto = procedo_proto::common::Actor::decode(bytes.as_slice())
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(Actor::from_proto(&proto))
}

/// `value` as JSON text.
pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Plain records of strings, numbers and lists always serialise.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// The JSON text in `column`, decoded.
pub fn json<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> Result<T, sqlx::Error> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// A decode error for a value the code does not know.
pub fn corrupt(column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unexpected {column} {value:?} in the database").into())
}

/// The row changed since it was read (a versioned update touched no row).
#[derive(Debug, thiserror::Error)]
#[error("the row changed since it was read")]
pub struct Conflict;

/// A store failure: the database's, or a concurrent change.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Conflict(#[from] Conflict),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Ok when a versioned update touched its row.
pub fn expect_one(rows_affected: u64) -> Result<(), StoreError> {
    if rows_affected == 1 {
        Ok(())
    } else {
        Err(Conflict.into())
    }
}
