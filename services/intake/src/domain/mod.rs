//! Intake's rules, free of I/O: the inquiry and application state machines,
//! the completeness check, ledger numbers and the catalogue's validation.
//! Callers pass the clock in; nothing here reads it.

pub mod application;
pub mod application_type;
pub mod inquiry;
pub mod ledger;

pub use procedo_platform::state::{IllegalTransition, State};
