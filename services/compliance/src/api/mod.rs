//! The gRPC surface: each handler authenticates, checks the request into
//! domain values, calls the application layer and converts the answer.
//! Roles per RPC are declared next to each handler.

mod audit;

pub use audit::AuditLogApi;
