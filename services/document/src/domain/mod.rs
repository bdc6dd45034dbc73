//! The document service's rules, pure and unit-tested: numbering patterns,
//! categories, documents and who may see them.

pub mod category;
pub mod document;
pub mod loan;
pub mod numbering;
pub mod person;
pub mod review;
pub mod signing;
pub mod version;

pub use procedo_platform::state::{IllegalTransition, State};
