//! The gRPC surface: each handler authenticates, checks the request into
//! domain values, calls the application layer and converts the answer.
//! Roles per RPC are declared next to each handler.

mod assessment;
mod audit;
mod directory;
mod filings;
mod inspections;
mod notices;
mod training;

pub use assessment::AssessmentApi;
pub use audit::AuditLogApi;
pub use directory::DirectoryApi;
pub use filings::FilingApi;
pub use inspections::InspectionApi;
pub use notices::RectificationApi;
pub use training::{PolicyApi, TrainingApi};

use procedo_platform::time::to_timestamp;

use crate::domain::history::Entry;

/// A history entry's parts as every history message carries them.
fn history_to_pb(
    e: &Entry,
) -> (
    String,
    String,
    Option<procedo_proto::common::Actor>,
    Option<prost_types::Timestamp>,
) {
    (
        e.action.clone(),
        e.detail.clone(),
        Some(e.actor.to_proto()),
        Some(to_timestamp(e.at)),
    )
}
