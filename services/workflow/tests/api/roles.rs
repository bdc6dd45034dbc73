use std::future::Future;
use std::pin::Pin;

use procedo_platform::auth::Role;
use procedo_proto::workflow as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::{Code, Status};

use crate::helpers::{TestWorkflow, WorkflowClient};

backend_tests!(every_rpc_admits_exactly_its_roles);

type Call = Box<dyn Fn(WorkflowClient) -> Pin<Box<dyn Future<Output = Result<(), Status>> + Send>>>;

macro_rules! rpc {
    ($method:ident, $request:ty) => {
        Box::new(|mut client: WorkflowClient| {
            Box::pin(async move { client.$method(<$request>::default()).await.map(|_| ()) })
                as Pin<Box<dyn Future<Output = Result<(), Status>> + Send>>
        }) as Call
    };
}

/// RPCs with a role gate (admin is admitted everywhere); the rest admit any
/// authenticated caller and decide per task, department or assignee.
fn matrix() -> Vec<(&'static str, Vec<Role>, Call)> {
    use Role::*;
    let all = Role::ALL.to_vec();
    vec![
        (
            "ValidateProcessDefinition",
            all.clone(),
            rpc!(
                validate_process_definition,
                pb::ValidateProcessDefinitionRequest
            ),
        ),
        (
            "DeployProcessDefinition",
            vec![],
            rpc!(
                deploy_process_definition,
                pb::DeployProcessDefinitionRequest
            ),
        ),
        (
            "GetProcessDefinition",
            all.clone(),
            rpc!(get_process_definition, pb::GetProcessDefinitionRequest),
        ),
        (
            "ListProcessDefinitions",
            all.clone(),
            rpc!(list_process_definitions, pb::ListProcessDefinitionsRequest),
        ),
        (
            "RenderProcessDiagram",
            all.clone(),
            rpc!(render_process_diagram, pb::RenderProcessDiagramRequest),
        ),
        (
            "PublishAuthorizationMatrix",
            vec![],
            rpc!(
                publish_authorization_matrix,
                pb::PublishAuthorizationMatrixRequest
            ),
        ),
        (
            "GetAuthorizationMatrix",
            all.clone(),
            rpc!(get_authorization_matrix, pb::GetAuthorizationMatrixRequest),
        ),
        (
            "ResolveApprovalChain",
            all.clone(),
            rpc!(resolve_approval_chain, pb::ResolveApprovalChainRequest),
        ),
        (
            "StartInstance",
            vec![DepartmentHead, Executor, Service],
            rpc!(start_instance, pb::StartInstanceRequest),
        ),
        (
            "GetInstance",
            all.clone(),
            rpc!(get_instance, pb::GetInstanceRequest),
        ),
        (
            "ListInstances",
            all.clone(),
            rpc!(list_instances, pb::ListInstancesRequest),
        ),
        (
            "CancelInstance",
            vec![DepartmentHead, Service],
            rpc!(cancel_instance, pb::CancelInstanceRequest),
        ),
        (
            "WatchInstance",
            all.clone(),
            rpc!(watch_instance, pb::WatchInstanceRequest),
        ),
        (
            "UpdateParticipants",
            vec![DepartmentHead],
            rpc!(update_participants, pb::UpdateParticipantsRequest),
        ),
        (
            "AddCoordinationItem",
            vec![Executor, DepartmentHead],
            rpc!(add_coordination_item, pb::AddCoordinationItemRequest),
        ),
        (
            "ResolveCoordinationItem",
            vec![Executor, DepartmentHead],
            rpc!(
                resolve_coordination_item,
                pb::ResolveCoordinationItemRequest
            ),
        ),
        (
            "AddSupervisionRecord",
            vec![DepartmentHead, Auditor],
            rpc!(add_supervision_record, pb::AddSupervisionRecordRequest),
        ),
        (
            "ListTasks",
            all.clone(),
            rpc!(list_tasks, pb::ListTasksRequest),
        ),
        ("GetTask", all.clone(), rpc!(get_task, pb::GetTaskRequest)),
        (
            "ReassignTask",
            vec![DepartmentHead],
            rpc!(reassign_task, pb::ReassignTaskRequest),
        ),
        (
            "RecordMeeting",
            vec![DepartmentHead],
            rpc!(record_meeting, pb::RecordMeetingRequest),
        ),
        (
            "GetMeeting",
            all.clone(),
            rpc!(get_meeting, pb::GetMeetingRequest),
        ),
        (
            "ListMeetings",
            all,
            rpc!(list_meetings, pb::ListMeetingsRequest),
        ),
    ]
}

async fn every_rpc_admits_exactly_its_roles(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let mut wrong = Vec::new();
    for (rpc, allowed, call) in matrix() {
        for role in Role::ALL {
            let admitted = role == Role::Admin || allowed.contains(&role);
            let outcome = call(app.client(role)).await;
            let denied = matches!(&outcome, Err(s) if s.code() == Code::PermissionDenied && s.message().starts_with("this call needs"));
            if admitted == denied {
                wrong.push(format!("{rpc} as {role}: {outcome:?}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "role matrix violated:\n{}",
        wrong.join("\n")
    );
}
