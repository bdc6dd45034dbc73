//! Intake's errors and the one mapping of them to gRPC statuses.

use procedo_platform::error as status;
use tonic::Status;

use crate::domain::IllegalTransition;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} does not exist")]
    NotFound(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
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
    #[error("the ledger of {0} has no numbers left")]
    LedgerExhausted(i32),
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
}

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        match e {
            Error::NotFound(resource) => status::not_found(resource),
            Error::AlreadyExists(resource) => {
                Status::already_exists(format!("{resource} already exists"))
            }
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
            Error::LedgerExhausted(year) => Status::resource_exhausted(format!(
                "the intake ledger of {year} has used all 999999 numbers"
            )),
            Error::Database(e) => status::unexpected(&e),
        }
    }
}
