//! The authorisation matrix (§3.2.3): published as effective-dated
//! versions; the one in force resolves each business's approval chain.

use procedo_platform::error::Error;
use procedo_platform::outbox;
use procedo_platform::time::{self, Millis};
use procedo_proto::workflow as pb;
use prost::Message;
use sqlx::AnyConnection;

use super::{App, Call, SOURCE};
use crate::convert::{self, matrix_to_pb};
use crate::domain::instance::Money;
use crate::domain::matrix::{Level, Matrix, NoChain};
use crate::store;

/// A published version of the matrix.
#[derive(Debug, Clone)]
pub struct Published {
    pub matrix: Matrix,
    pub created_at: Millis,
}

impl App {
    /// Publishes `matrix` (already checked) as the next version.
    pub async fn publish_matrix<M: Message + Default>(
        &self,
        call: &Call,
        mut matrix: Matrix,
        respond: impl FnOnce(&Published) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let now = self.now();
        let body = matrix_to_pb(&matrix, now).encode_to_vec();
        matrix.version = store::insert_matrix(&mut tx, matrix.effective_at, &body, now)
            .await
            .map_err(|e| {
                if procedo_platform::db::is_unique_violation(&e) {
                    Error::Conflict("authorizationMatrices".into())
                } else {
                    Error::from(e)
                }
            })?;
        let published = Published {
            matrix,
            created_at: now,
        };
        outbox::audit(
            &mut tx,
            SOURCE,
            &call.actor,
            "workflow.matrix.publish",
            &format!("authorizationMatrices/{}", published.matrix.version),
            String::new(),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&published)).await
    }

    /// Version `version`, or the one in force at `at`.
    pub async fn matrix(&self, version: Option<i32>, at: Millis) -> Result<Published, Error> {
        let mut conn = self.db().reader().acquire().await?;
        published(&mut conn, version, at).await?.ok_or_else(|| {
            Error::NotFound(match version {
                Some(v) => format!("authorizationMatrices/{v}"),
                None => "an authorisation matrix in force at that time".into(),
            })
        })
    }

    /// The approval chain the matrix in force at `at` sets for a business
    /// of `business_type` and `amount`, and that matrix's version.
    pub async fn approval_chain(
        &self,
        business_type: &str,
        amount: Option<&Money>,
        at: Millis,
    ) -> Result<(Vec<Level>, i32), Error> {
        let matrix = self.matrix(None, at).await?.matrix;
        let chain = matrix
            .chain_for(business_type, amount)
            .map_err(|no| match no {
                NoChain::Currency(description) => {
                    Error::invalid("amount.currency_code", description)
                }
                NoChain::NoRule(description) => Error::Precondition {
                    kind: "AUTHORIZATION_MATRIX",
                    resource: format!("authorizationMatrices/{}", matrix.version),
                    description,
                },
            })?;
        Ok((chain, matrix.version))
    }
}

/// The matrix of `version`, or the one in force at `at`, as the engine
/// resolves approval chains with it.
pub(super) async fn in_force(
    conn: &mut AnyConnection,
    version: Option<i32>,
    at: Millis,
) -> Result<Option<Matrix>, Error> {
    Ok(published(conn, version, at).await?.map(|p| p.matrix))
}

async fn published(
    conn: &mut AnyConnection,
    version: Option<i32>,
    at: Millis,
) -> Result<Option<Published>, Error> {
    let Some((version, body)) = store::get_matrix(conn, version, at).await? else {
        return Ok(None);
    };
    let stored = pb::AuthorizationMatrix::decode(body.as_slice()).map_err(|e| {
        Error::unexpected(format!(
            "authorization matrix {version} does not decode: {e}"
        ))
    })?;
    let effective_at = stored
        .effective_time
        .as_ref()
        .and_then(time::from_timestamp)
        .unwrap_or(0);
    let mut matrix = convert::matrix(&stored, effective_at);
    matrix.version = version;
    Ok(Some(Published {
        matrix,
        created_at: stored
            .create_time
            .as_ref()
            .and_then(time::from_timestamp)
            .unwrap_or(0),
    }))
}
