//! Workflow's errors and the one mapping of them to gRPC statuses.

use procedo_platform::error as status;
use procedo_platform::rows::StoreError;
use procedo_platform::state::IllegalTransition;
use tonic::Status;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} does not exist")]
    NotFound(String),
    #[error("{resource}: cannot {} while {}", transition.action, transition.current)]
    IllegalTransition {
        resource: String,
        transition: IllegalTransition,
    },
    #[error("{resource} has etag {current}, not {given}")]
    StaleEtag {
        resource: String,
        given: String,
        current: String,
    },
    /// Another call changed the resource between our read and our write.
    #[error("{0} was changed concurrently")]
    Conflict(String),
    /// The caller may not act on this resource.
    #[error("{0}")]
    Denied(String),
    /// One field of the request does not fit the resource's state.
    #[error("{field}: {description}")]
    Invalid { field: String, description: String },
    /// The resource cannot take this request now (out of turn, no rule).
    #[error("{resource}: {description}")]
    Precondition {
        kind: &'static str,
        resource: String,
        description: String,
    },
    #[error("database failure")]
    Database(#[from] sqlx::Error),
}

impl Error {
    /// Converts a store failure about `resource`.
    pub fn store(resource: &str, e: StoreError) -> Error {
        match e {
            StoreError::Conflict(_) => Error::Conflict(resource.to_owned()),
            StoreError::Database(e) => Error::Database(e),
        }
    }

    pub fn illegal(resource: &str, transition: IllegalTransition) -> Error {
        Error::IllegalTransition {
            resource: resource.to_owned(),
            transition,
        }
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        match e {
            Error::NotFound(resource) => status::not_found(resource),
            Error::IllegalTransition {
                resource,
                transition,
            } => transition.into_status(&resource),
            Error::StaleEtag {
                resource,
                given,
                current,
            } => status::stale_etag(&resource, &given, &current),
            Error::Conflict(resource) => Status::aborted(format!(
                "{resource} was changed by another call at the same time; read it again and retry"
            )),
            Error::Denied(message) => Status::permission_denied(message),
            Error::Invalid { field, description } => status::invalid_field(&field, &description),
            Error::Precondition {
                kind,
                resource,
                description,
            } => status::failed_precondition(kind, &resource, &description),
            Error::Database(e) => status::unexpected(&e),
        }
    }
}
