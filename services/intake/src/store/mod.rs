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
mod overdue;

pub use application_types::*;
pub use applications::*;
pub use inquiries::*;
pub use overdue::*;

pub use procedo_platform::rows::{Conflict, StoreError};
use procedo_platform::rows::{
    actor as decode_actor, corrupt, encode_actor, expect_one, json as from_json, to_json,
};

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
