//! The authorisation matrix (§3.2.3).

use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::error::Error;
use procedo_platform::identity::Role;
use procedo_platform::time;
use procedo_platform::validate::Violations;
use procedo_proto::workflow as pb;
use tonic::{Request, Response, Status};

use super::WorkflowApi;
use crate::app::{Call, Published};
use crate::convert::{self, level_to_pb, matrix_to_pb};

const PUBLISH: &[Role] = &[Role::Admin];

fn published_to_pb(p: &Published) -> pb::AuthorizationMatrix {
    matrix_to_pb(&p.matrix, p.created_at)
}

pub async fn publish(
    api: &WorkflowApi,
    r: Request<pb::PublishAuthorizationMatrixRequest>,
) -> Result<Response<pb::AuthorizationMatrix>, Status> {
    let actor = authorize(&r, PUBLISH)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new(
        "PublishAuthorizationMatrix",
        actor,
        v.request_id(&r.request_id, &r),
    );
    let Some(given) = r.matrix else {
        v.add("matrix", "is required");
        return Err(Error::Invalid(v.into_inner()).into());
    };
    let effective_at = v
        .time_opt("matrix.effective_time", given.effective_time.as_ref())
        .unwrap_or_else(time::now);
    v.finish()?;
    let matrix = convert::matrix(&given, effective_at);
    let mut v = Violations::new();
    for p in matrix.problems() {
        v.add(p.field, p.description);
    }
    v.finish()?;
    let published = api
        .app
        .publish_matrix(&call, matrix, published_to_pb)
        .await?;
    Ok(Response::new(published))
}

pub async fn get(
    api: &WorkflowApi,
    r: Request<pb::GetAuthorizationMatrixRequest>,
) -> Result<Response<pb::AuthorizationMatrix>, Status> {
    authenticated(&r)?;
    let mut v = Violations::new();
    if r.get_ref().version < 0 {
        v.add("version", "must not be negative");
    }
    let at = v
        .time_opt("at_time", r.get_ref().at_time.as_ref())
        .unwrap_or_else(time::now);
    v.finish()?;
    let version = Some(r.get_ref().version).filter(|v| *v > 0);
    let published = api.app.matrix(version, at).await?;
    Ok(Response::new(published_to_pb(&published)))
}

pub async fn resolve(
    api: &WorkflowApi,
    r: Request<pb::ResolveApprovalChainRequest>,
) -> Result<Response<pb::ResolveApprovalChainResponse>, Status> {
    authenticated(&r)?;
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
    let (levels, matrix_version) = api
        .app
        .approval_chain(&business_type, amount.as_ref(), at)
        .await?;
    Ok(Response::new(pb::ResolveApprovalChainResponse {
        levels: levels.iter().map(level_to_pb).collect(),
        matrix_version,
    }))
}
