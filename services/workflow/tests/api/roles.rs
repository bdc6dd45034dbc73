use procedo_platform::identity::Role;
use procedo_proto::calendar as cal;
use procedo_proto::workflow as pb;
use procedo_testkit::calendar::{CalendarClient, calendars};
use procedo_testkit::{Backend, Call, backend_tests, role_matrix_violations, rpc};

use crate::helpers::{TestWorkflow, WorkflowClient};

backend_tests!(
    every_rpc_admits_exactly_its_roles,
    every_calendar_rpc_admits_exactly_its_roles,
);

/// RPCs with a role gate (admin is admitted everywhere); the rest admit any
/// authenticated caller and decide per task, department or assignee.
fn matrix() -> Vec<(&'static str, Vec<Role>, Call<WorkflowClient>)> {
    use Role::*;
    let all = Role::ALL.to_vec();
    vec![
        (
            "ValidateProcessDefinition",
            all.clone(),
            rpc!(
                WorkflowClient,
                validate_process_definition,
                pb::ValidateProcessDefinitionRequest
            ),
        ),
        (
            "DeployProcessDefinition",
            vec![],
            rpc!(
                WorkflowClient,
                deploy_process_definition,
                pb::DeployProcessDefinitionRequest
            ),
        ),
        (
            "GetProcessDefinition",
            all.clone(),
            rpc!(
                WorkflowClient,
                get_process_definition,
                pb::GetProcessDefinitionRequest
            ),
        ),
        (
            "ListProcessDefinitions",
            all.clone(),
            rpc!(
                WorkflowClient,
                list_process_definitions,
                pb::ListProcessDefinitionsRequest
            ),
        ),
        (
            "RenderProcessDiagram",
            all.clone(),
            rpc!(
                WorkflowClient,
                render_process_diagram,
                pb::RenderProcessDiagramRequest
            ),
        ),
        (
            "PublishAuthorizationMatrix",
            vec![],
            rpc!(
                WorkflowClient,
                publish_authorization_matrix,
                pb::PublishAuthorizationMatrixRequest
            ),
        ),
        (
            "GetAuthorizationMatrix",
            all.clone(),
            rpc!(
                WorkflowClient,
                get_authorization_matrix,
                pb::GetAuthorizationMatrixRequest
            ),
        ),
        (
            "ResolveApprovalChain",
            all.clone(),
            rpc!(
                WorkflowClient,
                resolve_approval_chain,
                pb::ResolveApprovalChainRequest
            ),
        ),
        (
            "StartInstance",
            vec![DepartmentHead, Executor, Service],
            rpc!(WorkflowClient, start_instance, pb::StartInstanceRequest),
        ),
        (
            "GetInstance",
            all.clone(),
            rpc!(WorkflowClient, get_instance, pb::GetInstanceRequest),
        ),
        (
            "ListInstances",
            all.clone(),
            rpc!(WorkflowClient, list_instances, pb::ListInstancesRequest),
        ),
        (
            "CancelInstance",
            vec![DepartmentHead, Service],
            rpc!(WorkflowClient, cancel_instance, pb::CancelInstanceRequest),
        ),
        (
            "WatchInstance",
            all.clone(),
            rpc!(WorkflowClient, watch_instance, pb::WatchInstanceRequest),
        ),
        (
            "UpdateParticipants",
            vec![DepartmentHead],
            rpc!(
                WorkflowClient,
                update_participants,
                pb::UpdateParticipantsRequest
            ),
        ),
        (
            "AddCoordinationItem",
            vec![Executor, DepartmentHead],
            rpc!(
                WorkflowClient,
                add_coordination_item,
                pb::AddCoordinationItemRequest
            ),
        ),
        (
            "ResolveCoordinationItem",
            vec![Executor, DepartmentHead],
            rpc!(
                WorkflowClient,
                resolve_coordination_item,
                pb::ResolveCoordinationItemRequest
            ),
        ),
        (
            "AddSupervisionRecord",
            vec![DepartmentHead, Auditor],
            rpc!(
                WorkflowClient,
                add_supervision_record,
                pb::AddSupervisionRecordRequest
            ),
        ),
        (
            "ListTasks",
            all.clone(),
            rpc!(WorkflowClient, list_tasks, pb::ListTasksRequest),
        ),
        (
            "GetTask",
            all.clone(),
            rpc!(WorkflowClient, get_task, pb::GetTaskRequest),
        ),
        (
            "ReassignTask",
            vec![DepartmentHead],
            rpc!(WorkflowClient, reassign_task, pb::ReassignTaskRequest),
        ),
        (
            "RecordMeeting",
            vec![DepartmentHead],
            rpc!(WorkflowClient, record_meeting, pb::RecordMeetingRequest),
        ),
        (
            "GetMeeting",
            all.clone(),
            rpc!(WorkflowClient, get_meeting, pb::GetMeetingRequest),
        ),
        (
            "ListMeetings",
            all,
            rpc!(WorkflowClient, list_meetings, pb::ListMeetingsRequest),
        ),
    ]
}

async fn every_rpc_admits_exactly_its_roles(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let wrong = role_matrix_violations(matrix(), |role| app.client(role)).await;
    assert!(
        wrong.is_empty(),
        "role matrix violated:\n{}",
        wrong.join("\n")
    );
}

/// The calendars: read by every authenticated caller, changed by admins.
fn calendar_matrix() -> Vec<(&'static str, Vec<Role>, Call<CalendarClient>)> {
    let all = Role::ALL.to_vec();
    vec![
        (
            "GetCalendar",
            all.clone(),
            rpc!(CalendarClient, get_calendar, cal::GetCalendarRequest),
        ),
        (
            "ListCalendars",
            all.clone(),
            rpc!(CalendarClient, list_calendars, cal::ListCalendarsRequest),
        ),
        (
            "ListCalendarVersions",
            all,
            rpc!(
                CalendarClient,
                list_calendar_versions,
                cal::ListCalendarVersionsRequest
            ),
        ),
        (
            "PutCalendar",
            vec![],
            rpc!(CalendarClient, put_calendar, cal::PutCalendarRequest),
        ),
        (
            "ImportCalendar",
            vec![],
            rpc!(CalendarClient, import_calendar, cal::ImportCalendarRequest),
        ),
    ]
}

async fn every_calendar_rpc_admits_exactly_its_roles(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let wrong = role_matrix_violations(calendar_matrix(), |role| {
        calendars(&app.server.channel, app.tokens.token(role))
    })
    .await;
    assert!(
        wrong.is_empty(),
        "role matrix violated:\n{}",
        wrong.join("\n")
    );
}
