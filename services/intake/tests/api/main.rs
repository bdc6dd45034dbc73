//! Intake's behaviour through its gRPC surface, on SQLite and PostgreSQL.

mod helpers;

mod applications;
mod bad_input;
mod binary;
mod calendars;
mod catalogue;
mod deadlines;
mod fuzz;
mod inquiries;
mod ledger;
mod notifications;
mod platform;
mod reports;
mod roles;
