//! Workflow's behaviour through its gRPC surface, on SQLite and PostgreSQL.

mod helpers;

mod calendars;
mod concurrency;
mod deadlines;
mod definitions;
mod fuzz;
mod limits;
mod matrix;
mod meetings;
mod replicas;
mod roles;
mod standard_process;
mod tasks;
mod visibility;
mod watch;
