//! Procedo's workflow service.
pub mod domain;
