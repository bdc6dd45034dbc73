//! Procedo's workflow service.
pub mod domain;
pub mod store;
