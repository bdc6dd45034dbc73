//! Categories: admins create and change them; everyone reads them.

use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::identity::Role;
use procedo_platform::paging::Page;
use procedo_platform::validate::Violations;
use procedo_proto::document as pb;
use tonic::{Request, Response, Status};

use super::DocumentApi;
use super::convert::{self, category_to_pb};
use crate::app::Call;
use crate::domain::category::{CategorySpec, check_code};

const MANAGE: &[Role] = &[Role::Admin];

fn spec(c: Option<&pb::Category>, v: &mut Violations) -> Option<CategorySpec> {
    let Some(c) = c else {
        v.add("category", "is required");
        return None;
    };
    CategorySpec::check(
        "category",
        &c.code,
        &c.display_name,
        &c.number_pattern,
        convert::reset(c.number_reset),
        convert::clearance(c.default_confidentiality),
        c.retention_years,
        &c.required_signatures
            .iter()
            .map(convert::requirement)
            .collect::<Vec<_>>(),
        v,
    )
}

pub async fn create(
    api: &DocumentApi,
    r: Request<pb::CreateCategoryRequest>,
) -> Result<Response<pb::Category>, Status> {
    let actor = authorize(&r, MANAGE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("CreateCategory", actor, v.request_id(&r.request_id, &r));
    let spec = spec(r.category.as_ref(), &mut v);
    v.finish()?;
    let Some(spec) = spec else {
        return Err(Status::invalid_argument("category is required"));
    };
    Ok(Response::new(
        api.app.create_category(&call, spec, category_to_pb).await?,
    ))
}

pub async fn update(
    api: &DocumentApi,
    r: Request<pb::UpdateCategoryRequest>,
) -> Result<Response<pb::Category>, Status> {
    let actor = authorize(&r, MANAGE)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("UpdateCategory", actor, v.request_id(&r.request_id, &r));
    let spec = spec(r.category.as_ref(), &mut v);
    v.finish()?;
    let Some(spec) = spec else {
        return Err(Status::invalid_argument("category is required"));
    };
    Ok(Response::new(
        api.app
            .update_category(&call, spec, &r.etag, category_to_pb)
            .await?,
    ))
}

/// The code of "categories/{code}".
pub fn code_of(field: &str, name: &str, v: &mut Violations) -> String {
    match name.strip_prefix("categories/") {
        Some(code) => check_code(field, code, v),
        None => {
            v.add(field, "must be \"categories/<code>\"");
            String::new()
        }
    }
}

pub async fn get(
    api: &DocumentApi,
    r: Request<pb::GetCategoryRequest>,
) -> Result<Response<pb::Category>, Status> {
    authenticated(&r)?;
    let mut v = Violations::new();
    let code = code_of("name", &r.get_ref().name, &mut v);
    v.finish()?;
    Ok(Response::new(category_to_pb(
        &api.app.category(&code).await?,
    )))
}

pub async fn list(
    api: &DocumentApi,
    r: Request<pb::ListCategoriesRequest>,
) -> Result<Response<pb::ListCategoriesResponse>, Status> {
    authenticated(&r)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let page = Page::of(&r, &mut v);
    v.finish()?;
    let (rows, next_page_token) = api.app.categories(&page).await?;
    Ok(Response::new(pb::ListCategoriesResponse {
        categories: rows.iter().map(category_to_pb).collect(),
        next_page_token,
    }))
}
