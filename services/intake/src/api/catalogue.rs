//! The catalogue of application types.

use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::calendar::Limit;
use procedo_platform::identity::Role;
use procedo_platform::paging::Page;
use procedo_platform::validate::Violations;
use procedo_proto::intake as pb;
use tonic::{Request, Response, Status};

use super::IntakeApi;
use super::convert::{self, type_to_pb};
use crate::app::Call;
use crate::domain::application_type::{TypeSpec, check_code};

const MANAGE: &[Role] = &[Role::Admin];

fn spec(t: Option<&pb::ApplicationType>, v: &mut Violations) -> TypeSpec {
    let t = t.cloned().unwrap_or_default();
    let calendar = v.optional_line("application_type.calendar_id", &t.calendar_id, 63);
    let mut spec = TypeSpec::check(
        "application_type",
        &t.code,
        &t.display_name,
        t.in_scope,
        convert::requirements(v.at_most("application_type.materials", &t.materials, 200)),
        |v| processing_limit(&t, v),
        &t.process_key,
        &t.handling_department,
        v,
    );
    spec.calendar = calendar;
    spec
}

/// `processing_limit`, else the elapsed `processing_time_limit`.
fn processing_limit(t: &pb::ApplicationType, v: &mut Violations) -> Option<Limit> {
    if t.processing_limit.is_some() {
        return v.time_limit(
            "application_type.processing_limit",
            t.processing_limit.as_ref(),
        );
    }
    let Some(elapsed) = &t.processing_time_limit else {
        v.add(
            "application_type.processing_limit",
            "is required (or the elapsed processing_time_limit)",
        );
        return None;
    };
    v.limit_duration("application_type.processing_time_limit", elapsed)
        .map(Limit::Elapsed)
}

pub async fn create(
    api: &IntakeApi,
    r: Request<pb::CreateApplicationTypeRequest>,
) -> Result<Response<pb::ApplicationType>, Status> {
    let actor = authorize(&r, MANAGE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new(
        "CreateApplicationType",
        actor,
        v.request_id(&r.request_id, &r),
    );
    if r.application_type.is_none() {
        v.add("application_type", "is required");
    }
    let spec = spec(r.application_type.as_ref(), &mut v);
    v.finish()?;
    let created = api.app.create_type(&call, spec, type_to_pb).await?;
    Ok(Response::new(created))
}

pub async fn update(
    api: &IntakeApi,
    r: Request<pb::UpdateApplicationTypeRequest>,
) -> Result<Response<pb::ApplicationType>, Status> {
    let actor = authorize(&r, MANAGE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new(
        "UpdateApplicationType",
        actor,
        v.request_id(&r.request_id, &r),
    );
    if r.application_type.is_none() {
        v.add("application_type", "is required");
    }
    let given_etag = r
        .application_type
        .as_ref()
        .map(|t| t.etag.clone())
        .unwrap_or_default();
    let spec = spec(r.application_type.as_ref(), &mut v);
    v.finish()?;
    let updated = api
        .app
        .update_type(&call, spec, &given_etag, type_to_pb)
        .await?;
    Ok(Response::new(updated))
}

pub async fn get(
    api: &IntakeApi,
    r: Request<pb::GetApplicationTypeRequest>,
) -> Result<Response<pb::ApplicationType>, Status> {
    authenticated(&r)?;
    let mut v = Violations::new();
    let code = r
        .get_ref()
        .name
        .strip_prefix("applicationTypes/")
        .unwrap_or("");
    let code = check_code("name", code, &mut v);
    v.finish()?;
    let t = api.app.application_type(&code).await?;
    Ok(Response::new(type_to_pb(&t)))
}

pub async fn list(
    api: &IntakeApi,
    r: Request<pb::ListApplicationTypesRequest>,
) -> Result<Response<pb::ListApplicationTypesResponse>, Status> {
    authenticated(&r)?;
    let mut v = Violations::new();
    let page = Page::of(r.get_ref(), &mut v);
    v.finish()?;
    let (rows, next_page_token) = api.app.application_types(&page).await?;
    Ok(Response::new(pb::ListApplicationTypesResponse {
        application_types: rows.iter().map(type_to_pb).collect(),
        next_page_token,
    }))
}
