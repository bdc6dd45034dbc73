//! Every SQL statement of the workflow service, the same on SQLite and
//! PostgreSQL (through sqlx's `Any` driver) except the row lock that
//! serialises changes to one instance, which [`lock_instance`] keeps in one
//! place.
//!
//! Mutations take the caller's transaction so a step's tasks, the
//! instance, its history and its events commit together.

mod definitions;
mod instances;
mod meetings;
mod tasks;

pub use definitions::*;
pub use instances::*;
pub use meetings::*;
pub use tasks::*;

use procedo_platform::rows::{actor, corrupt, encode_actor, json, to_json};
