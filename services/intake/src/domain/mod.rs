//! Intake's rules, free of I/O: the inquiry and application state machines,
//! the completeness check, ledger numbers and the catalogue's validation.
//! Callers pass the clock in; nothing here reads it.

pub mod application;
pub mod application_type;
pub mod inquiry;
pub mod ledger;

/// An action the current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IllegalTransition {
    /// What was attempted, e.g. "review".
    pub action: &'static str,
    /// The state the resource is in.
    pub current: &'static str,
    /// The states that allow the action.
    pub allowed: Vec<&'static str>,
}
