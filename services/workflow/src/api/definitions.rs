//! Process definitions (§3.1): validation, deployment, reading, diagrams.

use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::error::Error;
use procedo_platform::identity::Role;
use procedo_platform::paging::Page;
use procedo_platform::time::to_timestamp;
use procedo_platform::validate::Violations;
use procedo_proto::workflow as pb;
use tonic::{Request, Response, Status};

use super::WorkflowApi;
use crate::app::{Call, Deployed};
use crate::convert::{self, definition_to_pb, parse_definition_name};
use crate::domain::definition::{Definition, Problem};
use crate::domain::diagram;

const DEPLOY: &[Role] = &[Role::Admin];

fn checked(definition: Option<&pb::ProcessDefinition>) -> Result<Definition, Vec<Problem>> {
    match definition {
        Some(d) => convert::draft(d).validate(),
        None => Err(vec![Problem {
            field: "definition".into(),
            description: "is required".into(),
        }]),
    }
}

fn deployed_to_pb(deployed: &Deployed) -> pb::ProcessDefinition {
    pb::ProcessDefinition {
        create_time: Some(to_timestamp(deployed.created_at)),
        deployed_by: Some(deployed.deployed_by.to_proto()),
        ..definition_to_pb(&deployed.definition)
    }
}

pub async fn validate(
    _api: &WorkflowApi,
    r: Request<pb::ValidateProcessDefinitionRequest>,
) -> Result<Response<pb::ValidateProcessDefinitionResponse>, Status> {
    authenticated(&r)?;
    let problems = checked(r.get_ref().definition.as_ref())
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
    let call = Call::new(
        "DeployProcessDefinition",
        actor,
        v.request_id(&r.request_id, &r),
    );
    v.finish()?;
    let definition = checked(r.definition.as_ref()).map_err(|problems| {
        let mut v = Violations::new();
        for p in problems {
            v.add(format!("definition.{}", p.field), p.description);
        }
        Error::Invalid(v.into_inner())
    })?;
    let deployed = api
        .app
        .deploy_definition(&call, definition, deployed_to_pb)
        .await?;
    Ok(Response::new(deployed))
}

pub async fn get(
    api: &WorkflowApi,
    r: Request<pb::GetProcessDefinitionRequest>,
) -> Result<Response<pb::ProcessDefinition>, Status> {
    authenticated(&r)?;
    let mut v = Violations::new();
    let (key, version) = parse_definition_name("name", &r.get_ref().name, &mut v);
    v.finish()?;
    let deployed = api.app.deployed(&key, version).await?;
    Ok(Response::new(deployed_to_pb(&deployed)))
}

pub async fn list(
    api: &WorkflowApi,
    r: Request<pb::ListProcessDefinitionsRequest>,
) -> Result<Response<pb::ListProcessDefinitionsResponse>, Status> {
    authenticated(&r)?;
    let mut v = Violations::new();
    let page = Page::of(r.get_ref(), &mut v);
    v.finish()?;
    let (rows, next_page_token) = api.app.deployed_definitions(&page).await?;
    Ok(Response::new(pb::ListProcessDefinitionsResponse {
        definitions: rows.iter().map(deployed_to_pb).collect(),
        next_page_token,
    }))
}

pub async fn render(
    api: &WorkflowApi,
    r: Request<pb::RenderProcessDiagramRequest>,
) -> Result<Response<pb::RenderProcessDiagramResponse>, Status> {
    authenticated(&r)?;
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
    let deployed = api.app.deployed(&key, version).await?;
    let diagram = match format {
        Ok(pb::DiagramFormat::Dot) => diagram::dot(&deployed.definition),
        _ => diagram::mermaid(&deployed.definition),
    };
    Ok(Response::new(pb::RenderProcessDiagramResponse { diagram }))
}
