//! The compliance domain, pure and unit-tested: the audit log's entries,
//! Merkle tree and signed checkpoints.

pub mod check;
pub mod entry;
pub mod merkle;
pub mod note;
