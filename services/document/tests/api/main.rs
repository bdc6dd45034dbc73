//! The document service's behaviour through its gRPC surface, on SQLite and
//! PostgreSQL.

mod helpers;

mod archive;
mod categories;
mod confidentiality;
mod content;
mod fuzz;
mod loans;
mod numbering;
mod review;
mod roles;
mod signing;
