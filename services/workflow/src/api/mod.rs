//! The gRPC surface of the workflow service: each handler authenticates,
//! checks the request into domain values, calls the application layer and
//! converts the answer. Roles per RPC are declared next to each handler.

mod definitions;
mod instances;
mod matrix;
mod meetings;
mod sink;
mod tasks;

use std::pin::Pin;

use procedo_proto::workflow as pb;
use tonic::{Request, Response, Status};

use crate::app::App;

pub use sink::EventSink;

/// The `procedo.workflow.v1.WorkflowService` implementation.
#[derive(Debug, Clone)]
pub struct WorkflowApi {
    app: App,
}

impl WorkflowApi {
    pub fn new(app: App) -> WorkflowApi {
        WorkflowApi { app }
    }
}

type HistoryStream =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::HistoryEntry, Status>> + Send>>;

#[tonic::async_trait]
impl pb::workflow_service_server::WorkflowService for WorkflowApi {
    async fn validate_process_definition(
        &self,
        r: Request<pb::ValidateProcessDefinitionRequest>,
    ) -> Result<Response<pb::ValidateProcessDefinitionResponse>, Status> {
        definitions::validate(self, r).await
    }
    async fn deploy_process_definition(
        &self,
        r: Request<pb::DeployProcessDefinitionRequest>,
    ) -> Result<Response<pb::ProcessDefinition>, Status> {
        definitions::deploy(self, r).await
    }
    async fn get_process_definition(
        &self,
        r: Request<pb::GetProcessDefinitionRequest>,
    ) -> Result<Response<pb::ProcessDefinition>, Status> {
        definitions::get(self, r).await
    }
    async fn list_process_definitions(
        &self,
        r: Request<pb::ListProcessDefinitionsRequest>,
    ) -> Result<Response<pb::ListProcessDefinitionsResponse>, Status> {
        definitions::list(self, r).await
    }
    async fn render_process_diagram(
        &self,
        r: Request<pb::RenderProcessDiagramRequest>,
    ) -> Result<Response<pb::RenderProcessDiagramResponse>, Status> {
        definitions::render(self, r).await
    }
    async fn publish_authorization_matrix(
        &self,
        r: Request<pb::PublishAuthorizationMatrixRequest>,
    ) -> Result<Response<pb::AuthorizationMatrix>, Status> {
        matrix::publish(self, r).await
    }
    async fn get_authorization_matrix(
        &self,
        r: Request<pb::GetAuthorizationMatrixRequest>,
    ) -> Result<Response<pb::AuthorizationMatrix>, Status> {
        matrix::get(self, r).await
    }
    async fn resolve_approval_chain(
        &self,
        r: Request<pb::ResolveApprovalChainRequest>,
    ) -> Result<Response<pb::ResolveApprovalChainResponse>, Status> {
        matrix::resolve(self, r).await
    }
    async fn start_instance(
        &self,
        r: Request<pb::StartInstanceRequest>,
    ) -> Result<Response<pb::Instance>, Status> {
        instances::start(self, r).await
    }
    async fn get_instance(
        &self,
        r: Request<pb::GetInstanceRequest>,
    ) -> Result<Response<pb::Instance>, Status> {
        instances::get(self, r).await
    }
    async fn list_instances(
        &self,
        r: Request<pb::ListInstancesRequest>,
    ) -> Result<Response<pb::ListInstancesResponse>, Status> {
        instances::list(self, r).await
    }
    async fn cancel_instance(
        &self,
        r: Request<pb::CancelInstanceRequest>,
    ) -> Result<Response<pb::Instance>, Status> {
        instances::cancel(self, r).await
    }

    type WatchInstanceStream = HistoryStream;

    async fn watch_instance(
        &self,
        r: Request<pb::WatchInstanceRequest>,
    ) -> Result<Response<Self::WatchInstanceStream>, Status> {
        instances::watch(self, r).await
    }
    async fn update_participants(
        &self,
        r: Request<pb::UpdateParticipantsRequest>,
    ) -> Result<Response<pb::Instance>, Status> {
        instances::update_participants(self, r).await
    }
    async fn add_coordination_item(
        &self,
        r: Request<pb::AddCoordinationItemRequest>,
    ) -> Result<Response<pb::Instance>, Status> {
        instances::add_coordination_item(self, r).await
    }
    async fn resolve_coordination_item(
        &self,
        r: Request<pb::ResolveCoordinationItemRequest>,
    ) -> Result<Response<pb::Instance>, Status> {
        instances::resolve_coordination_item(self, r).await
    }
    async fn add_supervision_record(
        &self,
        r: Request<pb::AddSupervisionRecordRequest>,
    ) -> Result<Response<pb::Instance>, Status> {
        instances::add_supervision_record(self, r).await
    }
    async fn list_tasks(
        &self,
        r: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::ListTasksResponse>, Status> {
        tasks::list(self, r).await
    }
    async fn get_task(&self, r: Request<pb::GetTaskRequest>) -> Result<Response<pb::Task>, Status> {
        tasks::get(self, r).await
    }
    async fn claim_task(
        &self,
        r: Request<pb::ClaimTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        tasks::claim(self, r).await
    }
    async fn complete_task(
        &self,
        r: Request<pb::CompleteTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        tasks::complete(self, r).await
    }
    async fn reassign_task(
        &self,
        r: Request<pb::ReassignTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        tasks::reassign(self, r).await
    }
    async fn delegate_task(
        &self,
        r: Request<pb::DelegateTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        tasks::delegate(self, r).await
    }
    async fn record_meeting(
        &self,
        r: Request<pb::RecordMeetingRequest>,
    ) -> Result<Response<pb::Meeting>, Status> {
        meetings::record(self, r).await
    }
    async fn get_meeting(
        &self,
        r: Request<pb::GetMeetingRequest>,
    ) -> Result<Response<pb::Meeting>, Status> {
        meetings::get(self, r).await
    }
    async fn list_meetings(
        &self,
        r: Request<pb::ListMeetingsRequest>,
    ) -> Result<Response<pb::ListMeetingsResponse>, Status> {
        meetings::list(self, r).await
    }
}
