//! The catalogue of application types.

use procedo_platform::auth::authorize;
use procedo_platform::identity::Role;
use procedo_platform::paging::Page;
use procedo_platform::time;
use procedo_platform::validate::Violations;
use procedo_proto::intake as pb;
use tonic::{Request, Response, Status};

use super::IntakeApi;
use super::convert::{self, type_to_pb};
use super::events;
use crate::domain::application_type::{ApplicationType, TypeSpec, check_code};
use crate::store;
use procedo_platform::error::Error;
use procedo_platform::{etag, mutation};

const MANAGE: &[Role] = &[Role::Admin];
const READ: &[Role] = &Role::ALL;

fn spec(t: Option<&pb::ApplicationType>, v: &mut Violations) -> TypeSpec {
    let t = t.cloned().unwrap_or_default();
    let limit = t
        .processing_time_limit
        .as_ref()
        .and_then(time::from_proto_duration);
    TypeSpec::check(
        "application_type",
        &t.code,
        &t.display_name,
        t.in_scope,
        convert::requirements(&t.materials),
        limit,
        &t.process_key,
        &t.handling_department,
        v,
    )
}

pub async fn create(
    api: &IntakeApi,
    r: Request<pb::CreateApplicationTypeRequest>,
) -> Result<Response<pb::ApplicationType>, Status> {
    let actor = authorize(&r, MANAGE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    if r.application_type.is_none() {
        v.add("application_type", "is required");
    }
    let spec = spec(r.application_type.as_ref(), &mut v);
    v.finish()?;
    mutation!(
        api.mutations(),
        "CreateApplicationType",
        &actor,
        request_id,
        |tx| {
            let now = time::now();
            let t = ApplicationType {
                code: spec.code,
                display_name: spec.display_name,
                in_scope: spec.in_scope,
                materials: spec.materials,
                processing_limit_ms: spec.processing_limit_ms,
                process_key: spec.process_key,
                handling_department: spec.handling_department,
                created_at: now,
                updated_at: now,
                version: 1,
            };
            let resource = format!("applicationTypes/{}", t.code);
            if !store::insert_type(&mut tx, &t).await.map_err(Error::from)? {
                return Err(Error::AlreadyExists(resource).into());
            }
            events::audit(
                &mut tx,
                &actor,
                "intake.application_types.create",
                &resource,
                String::new(),
            )
            .await
            .map_err(Error::from)?;
            type_to_pb(&t)
        }
    )
}

pub async fn update(
    api: &IntakeApi,
    r: Request<pb::UpdateApplicationTypeRequest>,
) -> Result<Response<pb::ApplicationType>, Status> {
    let actor = authorize(&r, MANAGE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
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
    mutation!(
        api.mutations(),
        "UpdateApplicationType",
        &actor,
        request_id,
        |tx| {
            let resource = format!("applicationTypes/{}", spec.code);
            let Some(mut t) = store::get_type(&mut tx, &spec.code)
                .await
                .map_err(Error::from)?
            else {
                return Err(Error::NotFound(resource).into());
            };
            let read_version = t.version;
            etag::check(&resource, &given_etag, read_version)?;
            t.display_name = spec.display_name;
            t.in_scope = spec.in_scope;
            t.materials = spec.materials;
            t.processing_limit_ms = spec.processing_limit_ms;
            t.process_key = spec.process_key;
            t.handling_department = spec.handling_department;
            t.updated_at = time::now();
            t.version += 1;
            store::update_type(&mut tx, &t, read_version)
                .await
                .map_err(|e| Error::store(&resource, e))?;
            events::audit(
                &mut tx,
                &actor,
                "intake.application_types.update",
                &resource,
                String::new(),
            )
            .await
            .map_err(Error::from)?;
            type_to_pb(&t)
        }
    )
}

pub async fn get(
    api: &IntakeApi,
    r: Request<pb::GetApplicationTypeRequest>,
) -> Result<Response<pb::ApplicationType>, Status> {
    authorize(&r, READ)?;
    let mut v = Violations::new();
    let code = r
        .get_ref()
        .name
        .strip_prefix("applicationTypes/")
        .unwrap_or("");
    let code = check_code("name", code, &mut v);
    v.finish()?;
    let mut conn = api.db().reader().acquire().await.map_err(Error::from)?;
    let t = store::get_type(&mut conn, &code)
        .await
        .map_err(Error::from)?
        .ok_or_else(|| Error::NotFound(format!("applicationTypes/{code}")))?;
    Ok(Response::new(type_to_pb(&t)))
}

pub async fn list(
    api: &IntakeApi,
    r: Request<pb::ListApplicationTypesRequest>,
) -> Result<Response<pb::ListApplicationTypesResponse>, Status> {
    authorize(&r, READ)?;
    let mut v = Violations::new();
    let page = Page::parse(r.get_ref().page_size, &r.get_ref().page_token, &mut v);
    v.finish()?;
    let mut rows = store::list_types(api.db(), &page)
        .await
        .map_err(Error::from)?;
    let next_page_token = page.finish(&mut rows, |t| t.code.clone());
    Ok(Response::new(pb::ListApplicationTypesResponse {
        application_types: rows.iter().map(type_to_pb).collect(),
        next_page_token,
    }))
}
