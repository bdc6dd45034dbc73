//! The compliance domain, pure and unit-tested: the audit log's entries,
//! Merkle tree and signed checkpoints; inspections and their findings;
//! rectification notices; regulatory filings; facts and assessment.

pub mod assessment;
pub mod check;
pub mod directory;
pub mod entry;
pub mod fact;
pub mod filing;
pub mod history;
pub mod inspection;
pub mod merkle;
pub mod note;
pub mod notice;
pub mod sampling;
pub mod training;
