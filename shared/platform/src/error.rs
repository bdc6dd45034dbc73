//! Building `tonic::Status` values with `google.rpc` rich details.
//!
//! Services keep one error enum each with an exhaustive
//! `From<Error> for Status`; these helpers make each arm one line and keep
//! the detail shapes identical across services.

use std::fmt::Display;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// One wrong field of a request: the path (`applicant.email`) and what is
/// wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// INVALID_ARGUMENT with a `BadRequest` listing every violation.
pub fn invalid_argument(violations: Vec<FieldViolation>) -> Status {
    let summary = violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ");
    let mut details = ErrorDetails::new();
    for v in violations {
        details.add_bad_request_violation(v.field, v.description);
    }
    Status::with_error_details(
        Code::InvalidArgument,
        format!("invalid request: {summary}"),
        details,
    )
}

/// INVALID_ARGUMENT for a single field.
pub fn invalid_field(field: &str, description: &str) -> Status {
    invalid_argument(vec![FieldViolation {
        field: field.to_owned(),
        description: description.to_owned(),
    }])
}

/// FAILED_PRECONDITION for a transition the resource's state does not allow,
/// with a `PreconditionFailure` naming the current state and the states that
/// allow the action.
pub fn illegal_transition(resource: &str, action: &str, current: &str, allowed: &[&str]) -> Status {
    let allowed = allowed.join(", ");
    let description = format!("cannot {action} while {current}; allowed only in: {allowed}");
    let mut details = ErrorDetails::new();
    details.add_precondition_failure_violation("STATE", resource, description.clone());
    Status::with_error_details(
        Code::FailedPrecondition,
        format!("{resource}: {description}"),
        details,
    )
}

/// FAILED_PRECONDITION for a request the resource cannot take now, with a
/// `PreconditionFailure` of `kind` (e.g. "ORDER", "CONFIGURATION").
pub fn failed_precondition(kind: &str, resource: &str, description: &str) -> Status {
    let mut details = ErrorDetails::new();
    details.add_precondition_failure_violation(kind, resource, description);
    Status::with_error_details(
        Code::FailedPrecondition,
        format!("{resource}: {description}"),
        details,
    )
}

/// ABORTED for a stale etag.
pub fn stale_etag(resource: &str, given: &str, current: &str) -> Status {
    Status::aborted(format!(
        "{resource} changed since it was read (etag {given:?}, now {current:?}); read it again and retry"
    ))
}

/// Logs an unexpected error with its whole cause chain and returns a generic
/// INTERNAL that reveals nothing of it.
pub fn unexpected(error: &(dyn std::error::Error + 'static)) -> Status {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::error!(error = %chain, "unexpected error");
    Status::internal("internal error; it has been logged")
}

/// NOT_FOUND naming the resource.
pub fn not_found(resource: impl Display) -> Status {
    Status::not_found(format!("{resource} does not exist"))
}
