//! Every SQL statement of the intake service. The same statements run on
//! SQLite and PostgreSQL through sqlx's `Any` driver; the shared test suite
//! runs on both to keep them honest.
//!
//! Mutations take the caller's transaction (`&mut AnyConnection`) so a state
//! change, its history, its events and its request id commit together.
//! Updates are guarded by the row's version: a concurrent change makes them
//! touch no row, reported as [`Conflict`].

mod application_types;
mod applications;
mod inquiries;

pub use application_types::*;
pub use applications::*;
pub use inquiries::*;

use procedo_platform::auth::Actor;
use prost::Message as _;
use sqlx::Row as _;
use sqlx::any::AnyRow;

/// The row changed since it was read.
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

fn encode_actor(actor: &Actor) -> Vec<u8> {
    actor.to_proto().encode_to_vec()
}

fn decode_actor(row: &AnyRow, column: &str) -> Result<Actor, sqlx::Error> {
    let bytes: Vec<u8> = row.try_get(column)?;
    let proto = procedo_proto::common::Actor::decode(bytes.as_slice())
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(Actor::from_proto(&proto))
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Serialising plain structs of strings and bools cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned())
}

fn from_json<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> Result<T, sqlx::Error> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn corrupt(column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unexpected {column} {value:?} in the database").into())
}

/// `text` as a LIKE pattern matching it anywhere, wildcards escaped.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn expect_one(rows: u64) -> Result<(), StoreError> {
    if rows == 1 {
        Ok(())
    } else {
        Err(Conflict.into())
    }
}
