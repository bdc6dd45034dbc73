//! What can go wrong in a call, said once for every service: one [`Error`]
//! enum, and one exhaustive conversion to `tonic::Status` with `google.rpc`
//! rich details.
//!
//! Callers get a precise code for everything they can act on. Database
//! failures are classified, not passed on as INTERNAL: a concurrent change
//! or a serialisation failure is ABORTED (read again and retry), a database
//! that cannot be reached or is overloaded is UNAVAILABLE (retry later).
//! Only [`Error::Unexpected`] is INTERNAL: its cause chain is logged once,
//! here, and the caller learns nothing of it.

use std::borrow::Cow;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::identity::MissingRole;
use crate::rows::StoreError;
use crate::state::IllegalTransition;

/// One wrong field of a request: the path (`applicant.email`) and what is
/// wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// Everything a Procedo call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// INVALID_ARGUMENT with every wrong field.
    #[error("invalid request: {}", summary(.0))]
    Invalid(Vec<FieldViolation>),
    #[error("{0} does not exist")]
    NotFound(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The caller may not act on this resource (PERMISSION_DENIED).
    #[error("{0}")]
    Denied(String),
    /// FAILED_PRECONDITION naming the current state and the allowed ones.
    #[error("{resource}: {transition}")]
    IllegalTransition {
        resource: String,
        transition: IllegalTransition,
    },
    /// The resource cannot take this request now (FAILED_PRECONDITION of
    /// `kind`, e.g. "ORDER", "CONFIGURATION").
    #[error("{resource}: {description}")]
    Precondition {
        kind: &'static str,
        resource: String,
        description: String,
    },
    /// The caller's etag is not the resource's (ABORTED).
    #[error("{resource} has etag {current}, not {given}")]
    StaleEtag {
        resource: String,
        given: String,
        current: String,
    },
    /// Another call changed the resource between our read and our write
    /// (ABORTED).
    #[error("{0} was changed concurrently")]
    Conflict(String),
    /// The database gave up on the transaction because of concurrent work:
    /// a serialisation failure, a deadlock, a unique key taken by a racing
    /// call (ABORTED).
    #[error("the transaction collided with a concurrent one")]
    Contention(#[source] sqlx::Error),
    /// A finite supply ran out (RESOURCE_EXHAUSTED).
    #[error("{0}")]
    Exhausted(String),
    /// The database cannot be reached, refused the connection or is too
    /// busy to answer in time (UNAVAILABLE).
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Another service this call needed did not answer in time
    /// (UNAVAILABLE): `service` names it, `reason` says what happened.
    #[error("the {service} service is unavailable: {reason}")]
    PeerUnavailable {
        service: &'static str,
        reason: String,
    },
    /// A bug or a broken invariant: logged with its cause chain, answered
    /// as a bare INTERNAL.
    #[error("unexpected error")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn summary(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// INVALID_ARGUMENT for a single field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Error {
        Error::Invalid(vec![FieldViolation {
            field: field.into(),
            description: description.into(),
        }])
    }

    /// A state machine refused an action on `resource`.
    pub fn illegal(resource: impl Into<String>, transition: IllegalTransition) -> Error {
        Error::IllegalTransition {
            resource: resource.into(),
            transition,
        }
    }

    /// A broken invariant, described; INTERNAL to the caller.
    pub fn unexpected(description: impl Into<String>) -> Error {
        Error::Unexpected(description.into().into())
    }

    /// A store failure about `resource`: a versioned update that lost the
    /// race is a conflict on it; anything else is classified as a database
    /// error.
    pub fn store(resource: &str, e: StoreError) -> Error {
        match e {
            StoreError::Conflict(_) => Error::Conflict(resource.to_owned()),
            StoreError::Database(e) => Error::from(e),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        match classify(&e) {
            Class::Contention => Error::Contention(e),
            Class::Unavailable => Error::Unavailable(e),
            Class::Other => Error::Unexpected(Box::new(e)),
        }
    }
}

impl From<MissingRole> for Error {
    fn from(missing: MissingRole) -> Error {
        Error::Denied(missing.to_string())
    }
}

/// What a database failure means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Concurrent work got in the way; the same call may pass if retried.
    Contention,
    /// The database is down, unreachable or overloaded.
    Unavailable,
    /// Anything else: a bug, a schema mismatch, corrupt data.
    Other,
}

/// Classifies a database failure by its SQLSTATE (PostgreSQL) or result
/// code (SQLite), or by the pool's own errors.
pub fn classify(e: &sqlx::Error) -> Class {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => Class::Unavailable,
        sqlx::Error::Database(db) => {
            if db.is_unique_violation() {
                return Class::Contention;
            }
            let code = db.code().unwrap_or(Cow::Borrowed(""));
            classify_code(&code)
        }
        _ => Class::Other,
    }
}

fn classify_code(code: &str) -> Class {
    match code {
        // PostgreSQL: serialization_failure, deadlock_detected.
        "40001" | "40P01" => Class::Contention,
        // PostgreSQL: connection exceptions (08…), operator intervention
        // (admin/crash shutdown, cannot connect now), insufficient
        // resources (too many connections, out of memory or disk).
        c if c.starts_with("08") || c.starts_with("57P") || c.starts_with("53") => {
            Class::Unavailable
        }
        // SQLite: BUSY_SNAPSHOT is a read transaction that lost the race to
        // write; BUSY and LOCKED outlasting the busy timeout mean the
        // database is too busy.
        "517" => Class::Contention,
        c => match c.parse::<i32>() {
            Ok(n) if matches!(n & 0xff, 5 | 6) => Class::Unavailable,
            _ => Class::Other,
        },
    }
}

/// The cause chain of `error`, outermost first.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        match e {
            Error::Invalid(violations) => {
                let message = format!("invalid request: {}", summary(&violations));
                let mut details = ErrorDetails::new();
                for v in violations {
                    details.add_bad_request_violation(v.field, v.description);
                }
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            Error::NotFound(resource) => Status::not_found(format!("{resource} does not exist")),
            Error::AlreadyExists(resource) => {
                Status::already_exists(format!("{resource} already exists"))
            }
            Error::Denied(message) => Status::permission_denied(message),
            Error::IllegalTransition {
                resource,
                transition,
            } => precondition("STATE", &resource, &transition.to_string()),
            Error::Precondition {
                kind,
                resource,
                description,
            } => precondition(kind, &resource, &description),
            Error::StaleEtag {
                resource,
                given,
                current,
            } => Status::aborted(format!(
                "{resource} changed since it was read (etag {given:?}, now {current:?}); read it again and retry"
            )),
            Error::Conflict(resource) => Status::aborted(format!(
                "{resource} was changed by another call at the same time; read it again and retry"
            )),
            Error::Contention(e) => {
                tracing::info!(error = %chain(&e), "transaction aborted by concurrent work");
                Status::aborted(
                    "the change collided with a concurrent one and was not made; retry it",
                )
            }
            Error::Exhausted(message) => Status::resource_exhausted(message),
            Error::Unavailable(e) => {
                tracing::warn!(error = %chain(&e), "database unavailable");
                Status::unavailable("the database is unavailable; retry later")
            }
            Error::PeerUnavailable { service, reason } => {
                tracing::warn!(%service, %reason, "a peer service is unavailable");
                Status::unavailable(format!(
                    "the {service} service is unavailable ({reason}); retry later"
                ))
            }
            Error::Unexpected(e) => {
                tracing::error!(error = %chain(e.as_ref()), "unexpected error");
                Status::internal("internal error; it has been logged")
            }
        }
    }
}

/// FAILED_PRECONDITION with a `PreconditionFailure` of `kind` about
/// `resource`.
fn precondition(kind: &str, resource: &str, description: &str) -> Status {
    let mut details = ErrorDetails::new();
    details.add_precondition_failure_violation(kind, resource, description);
    Status::with_error_details(
        Code::FailedPrecondition,
        format!("{resource}: {description}"),
        details,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_codes_are_classified_by_what_the_caller_can_do() {
        assert_eq!(classify_code("40001"), Class::Contention);
        assert_eq!(classify_code("40P01"), Class::Contention);
        assert_eq!(classify_code("08006"), Class::Unavailable);
        assert_eq!(classify_code("57P01"), Class::Unavailable);
        assert_eq!(classify_code("53300"), Class::Unavailable);
        assert_eq!(classify_code("5"), Class::Unavailable);
        assert_eq!(classify_code("6"), Class::Unavailable);
        assert_eq!(classify_code("261"), Class::Unavailable);
        assert_eq!(classify_code("517"), Class::Contention);
        assert_eq!(classify_code("42P01"), Class::Other);
        assert_eq!(classify_code("1"), Class::Other);
        assert_eq!(classify(&sqlx::Error::PoolTimedOut), Class::Unavailable);
        assert_eq!(classify(&sqlx::Error::RowNotFound), Class::Other);
    }

    #[test]
    fn internals_never_reach_the_caller() {
        let status = Status::from(Error::unexpected("secret detail at /var/lib/x"));
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("secret"));
        let status = Status::from(Error::from(sqlx::Error::PoolTimedOut));
        assert_eq!(status.code(), Code::Unavailable);
    }
}
