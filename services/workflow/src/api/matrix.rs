//! The authorisation matrix (§3.2.3).

use procedo_platform::auth::authorize;
use procedo_platform::error::FieldViolation;
use procedo_platform::identity::Role;
use procedo_platform::outbox;
use procedo_platform::time;
use procedo_platform::validate::Violations;
use procedo_proto::workflow as pb;
use prost::Message as _;
use tonic::{Request, Response, Status};

use super::WorkflowApi;
use super::convert::{self, level_to_pb, matrix_to_pb};
use super::progress::SOURCE;
use crate::store;
use procedo_platform::error::Error;
use procedo_platform::mutation;

const ANY: &[Role] = &Role::ALL;
const PUBLISH: &[Role] = &[Role::Admin];

pub async fn publish(
    api: &WorkflowApi,
    r: Request<pb::PublishAuthorizationMatrixRequest>,
) -> Result<Response<pb::AuthorizationMatrix>, Status> {
    let actor = authorize(&r, PUBLISH)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    let Some(given) = r.matrix else {
        v.add("matrix", "is required");
        return Err(Error::Invalid(v.into_inner()).into());
    };
    let now = time::now();
    let effective_at = v
        .time_opt("matrix.effective_time", given.effective_time.as_ref())
        .unwrap_or(now);
    v.finish()?;
    let mut matrix = convert::matrix(&given, effective_at);
    let problems = matrix.problems();
    if !problems.is_empty() {
        return Err(Error::Invalid(
            problems
                .into_iter()
                .map(|p| FieldViolation {
                    field: p.field,
                    description: p.description,
                })
                .collect(),
        )
        .into());
    }
    mutation!(
        api.mutations(),
        "PublishAuthorizationMatrix",
        &actor,
        request_id,
        |tx| {
            let body = matrix_to_pb(&matrix, now).encode_to_vec();
            matrix.version = store::insert_matrix(&mut tx, effective_at, &body, now)
                .await
                .map_err(|e| {
                    if procedo_platform::db::is_unique_violation(&e) {
                        Error::Conflict("authorizationMatrices".into())
                    } else {
                        Error::from(e)
                    }
                })?;
            let published = matrix_to_pb(&matrix, now);
            outbox::audit(
                &mut tx,
                SOURCE,
                &actor,
                "workflow.matrix.publish",
                &published.name,
                String::new(),
            )
            .await
            .map_err(Error::from)?;
            published
        }
    )
}

async fn load(
    api: &WorkflowApi,
    version: Option<i32>,
    at: time::Millis,
) -> Result<pb::AuthorizationMatrix, Error> {
    let mut conn = api.db().reader().acquire().await?;
    let (version, body) = store::get_matrix(&mut conn, version, at)
        .await?
        .ok_or_else(|| {
            Error::NotFound(match version {
                Some(v) => format!("authorizationMatrices/{v}"),
                None => "an authorisation matrix in force at that time".into(),
            })
        })?;
    let mut m = pb::AuthorizationMatrix::decode(body.as_slice())
        .map_err(|e| Error::unexpected(format!("a stored record does not decode: {e}")))?;
    m.version = version;
    m.name = format!("authorizationMatrices/{version}");
    Ok(m)
}

pub async fn get(
    api: &WorkflowApi,
    r: Request<pb::GetAuthorizationMatrixRequest>,
) -> Result<Response<pb::AuthorizationMatrix>, Status> {
    authorize(&r, ANY)?;
    let mut v = Violations::new();
    if r.get_ref().version < 0 {
        v.add("version", "must not be negative");
    }
    let at = v
        .time_opt("at_time", r.get_ref().at_time.as_ref())
        .unwrap_or_else(time::now);
    v.finish()?;
    let version = Some(r.get_ref().version).filter(|v| *v > 0);
    Ok(Response::new(load(api, version, at).await?))
}

pub async fn resolve(
    api: &WorkflowApi,
    r: Request<pb::ResolveApprovalChainRequest>,
) -> Result<Response<pb::ResolveApprovalChainResponse>, Status> {
    authorize(&r, ANY)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let business_type = v.required_line("business_type", &r.business_type, 100);
    let amount = v.money("amount", r.amount.as_ref());
    if r.amount.is_none() {
        v.add("amount", "is required");
    }
    let at = v
        .time_opt("at_time", r.at_time.as_ref())
        .unwrap_or_else(time::now);
    v.finish()?;
    let published = load(api, None, at).await?;
    let matrix = convert::matrix(&published, 0);
    let amount = amount.unwrap_or(crate::domain::instance::Money {
        currency: matrix.currency.clone(),
        minor_units: 0,
    });
    if amount.currency != matrix.currency {
        return Err(Error::invalid(
            "amount.currency_code",
            format!("the matrix in force is in {}", matrix.currency),
        )
        .into());
    }
    let levels = matrix
        .resolve(&business_type, amount.minor_units)
        .ok_or_else(|| Error::Precondition {
            kind: "AUTHORIZATION_MATRIX",
            resource: published.name.clone(),
            description: format!("no rule for {business_type:?} at {}", amount.minor_units),
        })?;
    Ok(Response::new(pb::ResolveApprovalChainResponse {
        levels: levels.iter().map(level_to_pb).collect(),
        matrix_version: published.version,
    }))
}
