//! Every SQL statement of the document service, for SQLite and PostgreSQL
//! alike (sqlx's `Any` driver). Mutations take the caller's transaction;
//! updates are guarded by the row's version.

mod categories;
mod documents;
mod loans;
mod reviews;
mod signatures;
mod versions;

#[cfg(test)]
mod scale_tests;

pub use categories::*;
pub use documents::*;
pub use loans::*;
pub use reviews::*;
pub use signatures::*;
pub use versions::*;

use procedo_platform::identity::Clearance;
pub use procedo_platform::rows::{Conflict, StoreError};
use procedo_platform::rows::{
    actor as decode_actor, corrupt, encode_actor, expect_one, json as from_json, to_json,
};

/// A level as stored: 0 public … 3 secret, so levels compare in SQL.
fn level(c: Clearance) -> i64 {
    match c {
        Clearance::Public => 0,
        Clearance::Internal => 1,
        Clearance::Confidential => 2,
        Clearance::Secret => 3,
    }
}

fn level_from(n: i64) -> Result<Clearance, sqlx::Error> {
    Ok(match n {
        0 => Clearance::Public,
        1 => Clearance::Internal,
        2 => Clearance::Confidential,
        3 => Clearance::Secret,
        _ => return Err(corrupt("confidentiality", &n.to_string())),
    })
}
