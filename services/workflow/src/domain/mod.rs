//! Workflow's rules, free of I/O: definitions and their validation, the
//! authorisation matrix, instances, tasks and the engine that moves them,
//! the built-in standard process, and diagrams.

pub mod definition;
pub mod diagram;
pub mod engine;
pub mod instance;
pub mod matrix;
pub mod meeting;
pub mod standard;
pub mod task;
pub mod visibility;
