//! The compliance service's behaviour through its gRPC surface, on SQLite
//! and PostgreSQL.

mod helpers;

mod assessment;
mod audit;
mod directory;
mod filings;
mod fuzz;
mod inspections;
mod notices;
mod roles;
mod training;
