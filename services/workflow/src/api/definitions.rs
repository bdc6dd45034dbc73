//! Process definitions (§3.1): validation, deployment, reading, diagrams.

use procedo_platform::auth::authorize;
use procedo_platform::error::FieldViolation;
use procedo_platform::identity::{Actor, Role};
use procedo_platform::outbox;
use procedo_platform::paging::Page;
use procedo_platform::time::{self, Millis, to_timestamp};
use procedo_platform::validate::Violations;
use procedo_proto::workflow as pb;
use prost::Message as _;
use sqlx::AnyConnection;
use tonic::{Request, Response, Status};

use super::WorkflowApi;
use super::convert::{self, definition_to_pb, parse_definition_name};
use super::progress::SOURCE;
use crate::domain::definition::{Definition, Problem};
use crate::domain::diagram;
use crate::store::{self, StoredDefinition};
use procedo_platform::error::Error;
use procedo_platform::mutation;

const ANY: &[Role] = &Role::ALL;
const DEPLOY: &[Role] = &[Role::Admin];

fn draft_problems(definition: Option<&pb::ProcessDefinition>) -> Result<Definition, Vec<Problem>> {
    match definition {
        Some(d) => convert::draft(d).validate(),
        None => Err(vec![Problem {
            field: "definition".into(),
            description: "is required".into(),
        }]),
    }
}

pub async fn validate(
    _api: &WorkflowApi,
    r: Request<pb::ValidateProcessDefinitionRequest>,
) -> Result<Response<pb::ValidateProcessDefinitionResponse>, Status> {
    authorize(&r, ANY)?;
    let problems = draft_problems(r.get_ref().definition.as_ref())
        .err()
        .unwrap_or_default();
    Ok(Response::new(pb::ValidateProcessDefinitionResponse {
        valid: problems.is_empty(),
        problems: problems
            .into_iter()
            .map(|p| pb::Problem {
                field: p.field,
                description: p.description,
            })
            .collect(),
    }))
}

pub async fn deploy(
    api: &WorkflowApi,
    r: Request<pb::DeployProcessDefinitionRequest>,
) -> Result<Response<pb::ProcessDefinition>, Status> {
    let actor = authorize(&r, DEPLOY)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let request_id = v.request_id(&r.request_id);
    v.finish()?;
    let definition = draft_problems(r.definition.as_ref()).map_err(|problems| {
        Error::Invalid(
            problems
                .into_iter()
                .map(|p| FieldViolation {
                    field: format!("definition.{}", p.field),
                    description: p.description,
                })
                .collect(),
        )
    })?;
    mutation!(
        api.mutations(),
        "DeployProcessDefinition",
        &actor,
        request_id,
        |tx| {
            let stored = deploy_definition(&mut tx, definition, &actor, time::now()).await?;
            stored_to_pb(&stored)?
        }
    )
}

/// Stores `definition` as the next version of its key, unless the latest
/// version is the same; returns what is stored.
pub async fn deploy_definition(
    tx: &mut AnyConnection,
    mut definition: Definition,
    actor: &Actor,
    now: Millis,
) -> Result<StoredDefinition, Error> {
    let latest = store::get_definition(tx, &definition.key, None).await?;
    if let Some(latest) = latest {
        definition.version = latest.version;
        if definition_to_pb(&definition).encode_to_vec() == latest.body {
            return Ok(latest);
        }
        definition.version = latest.version + 1;
    } else {
        definition.version = 1;
    }
    let body = definition_to_pb(&definition).encode_to_vec();
    store::insert_definition(
        tx,
        &definition.key,
        definition.version,
        &definition.display_name,
        &body,
        actor,
        now,
    )
    .await
    .map_err(|e| {
        if procedo_platform::db::is_unique_violation(&e) {
            Error::Conflict(format!("processDefinitions/{}", definition.key))
        } else {
            Error::from(e)
        }
    })?;
    outbox::audit(
        tx,
        SOURCE,
        actor,
        "workflow.definitions.deploy",
        &definition.resource(),
        format!("{} steps", definition.steps.len()),
    )
    .await?;
    Ok(StoredDefinition {
        key: definition.key.clone(),
        version: definition.version,
        body,
        deployed_by: actor.clone(),
        created_at: now,
    })
}

fn stored_to_pb(stored: &StoredDefinition) -> Result<pb::ProcessDefinition, Error> {
    let mut d = pb::ProcessDefinition::decode(stored.body.as_slice())
        .map_err(|e| Error::unexpected(format!("a stored record does not decode: {e}")))?;
    d.create_time = Some(to_timestamp(stored.created_at));
    d.deployed_by = Some(stored.deployed_by.to_proto());
    Ok(d)
}

pub async fn get(
    api: &WorkflowApi,
    r: Request<pb::GetProcessDefinitionRequest>,
) -> Result<Response<pb::ProcessDefinition>, Status> {
    authorize(&r, ANY)?;
    let mut v = Violations::new();
    let (key, version) = parse_definition_name("name", &r.get_ref().name, &mut v);
    v.finish()?;
    let mut conn = api.db().reader().acquire().await.map_err(Error::from)?;
    let stored = store::get_definition(&mut conn, &key, version)
        .await
        .map_err(Error::from)?
        .ok_or_else(|| Error::NotFound(r.get_ref().name.clone()))?;
    Ok(Response::new(stored_to_pb(&stored)?))
}

pub async fn list(
    api: &WorkflowApi,
    r: Request<pb::ListProcessDefinitionsRequest>,
) -> Result<Response<pb::ListProcessDefinitionsResponse>, Status> {
    authorize(&r, ANY)?;
    let mut v = Violations::new();
    let page = Page::parse(r.get_ref().page_size, &r.get_ref().page_token, &mut v);
    v.finish()?;
    let mut rows = store::list_definitions(api.db(), &page)
        .await
        .map_err(Error::from)?;
    let next_page_token = page.finish(&mut rows, |d| d.key.clone());
    Ok(Response::new(pb::ListProcessDefinitionsResponse {
        definitions: rows.iter().map(stored_to_pb).collect::<Result<_, _>>()?,
        next_page_token,
    }))
}

pub async fn render(
    api: &WorkflowApi,
    r: Request<pb::RenderProcessDiagramRequest>,
) -> Result<Response<pb::RenderProcessDiagramResponse>, Status> {
    authorize(&r, ANY)?;
    let mut v = Violations::new();
    let (key, version) = parse_definition_name("name", &r.get_ref().name, &mut v);
    let format = pb::DiagramFormat::try_from(r.get_ref().format);
    if !matches!(
        format,
        Ok(pb::DiagramFormat::Mermaid | pb::DiagramFormat::Dot)
    ) {
        v.add(
            "format",
            "must be DIAGRAM_FORMAT_MERMAID or DIAGRAM_FORMAT_DOT",
        );
    }
    v.finish()?;
    let mut conn = api.db().reader().acquire().await.map_err(Error::from)?;
    let definition = api.definition(&mut conn, &key, version).await?;
    let diagram = match format {
        Ok(pb::DiagramFormat::Dot) => diagram::dot(&definition),
        _ => diagram::mermaid(&definition),
    };
    Ok(Response::new(pb::RenderProcessDiagramResponse { diagram }))
}
