//! Every mutation (and the reads that take filters) answers random and
//! mangled bodies with a status the caller can act on, and workflow keeps
//! serving; the definition and matrix validators get the same treatment
//! through DeployProcessDefinition, ValidateProcessDefinition and
//! PublishAuthorizationMatrix. `PROCEDO_FUZZ_CASES` sets the cases per
//! method.

use procedo_platform::identity::Role;
use procedo_proto::calendar as cal;
use procedo_proto::common;
use procedo_proto::workflow as pb;
use procedo_testkit::Backend;
use procedo_testkit::fuzz::{Target, fuzz};

use crate::helpers::{TestWorkflow, decide, hours, matrix, small_definition};

fn path(method: &str) -> &'static str {
    Box::leak(format!("/procedo.workflow.v1.WorkflowService/{method}").into_boxed_str())
}

#[test]
fn every_method_answers_random_and_mangled_bodies_with_a_status_the_caller_can_act_on() {
    let runtime = procedo_testkit::fuzz::runtime();
    let app = runtime.block_on(TestWorkflow::spawn(Backend::Sqlite));
    let (instance, task) = runtime.block_on(async {
        app.publish_matrix().await;
        app.client(Role::Admin)
            .deploy_process_definition(pb::DeployProcessDefinitionRequest {
                request_id: String::new(),
                definition: Some(small_definition("purchase", hours(8))),
            })
            .await
            .expect("deployed");
        let instance = app
            .person("li", "sales", &[Role::DepartmentHead], "", 0)
            .start_instance(pb::StartInstanceRequest {
                process_key: "purchase".into(),
                business_key: "po-1".into(),
                business_type: "purchase".into(),
                title: "Laptops".into(),
                ..Default::default()
            })
            .await
            .expect("started")
            .into_inner();
        let task = app.task(&instance.name, "request", None).await;
        (instance.name, task)
    });
    let targets = vec![
        Target::new(
            path("ValidateProcessDefinition"),
            &pb::ValidateProcessDefinitionRequest {
                definition: Some(small_definition("other", hours(1))),
            },
        ),
        Target::new(
            path("DeployProcessDefinition"),
            &pb::DeployProcessDefinitionRequest {
                request_id: String::new(),
                definition: Some(small_definition("other", hours(1))),
            },
        ),
        Target::new(
            path("PublishAuthorizationMatrix"),
            &pb::PublishAuthorizationMatrixRequest {
                request_id: String::new(),
                matrix: Some(matrix(None)),
            },
        ),
        Target::new(
            path("ResolveApprovalChain"),
            &pb::ResolveApprovalChainRequest {
                business_type: "project".into(),
                amount: Some(crate::helpers::cny(500_000)),
                ..Default::default()
            },
        ),
        Target::new(
            path("StartInstance"),
            &pb::StartInstanceRequest {
                process_key: "purchase".into(),
                business_key: "po-2".into(),
                business_type: "purchase".into(),
                title: "Desks".into(),
                participants: Some(pb::Participants {
                    review_departments: vec!["finance".into()],
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
        Target::new(
            path("UpdateParticipants"),
            &pb::UpdateParticipantsRequest {
                name: instance.clone(),
                participants: Some(pb::Participants {
                    review_departments: vec!["legal".into()],
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
        Target::new(
            path("AddCoordinationItem"),
            &pb::AddCoordinationItemRequest {
                name: instance.clone(),
                problem: "late parts".into(),
                responsible_department: "ops".into(),
                ..Default::default()
            },
        ),
        Target::new(
            path("ResolveCoordinationItem"),
            &pb::ResolveCoordinationItemRequest {
                name: instance.clone(),
                item_id: "1".into(),
                resolution: "found".into(),
                ..Default::default()
            },
        ),
        Target::new(
            path("AddSupervisionRecord"),
            &pb::AddSupervisionRecordRequest {
                name: instance.clone(),
                findings: "on track".into(),
                ..Default::default()
            },
        ),
        Target::new(
            path("ClaimTask"),
            &pb::ClaimTaskRequest {
                name: task.name.clone(),
                ..Default::default()
            },
        ),
        Target::new(
            path("CompleteTask"),
            &decide(&task, pb::Decision::Complete, "done"),
        ),
        Target::new(
            path("ReassignTask"),
            &pb::ReassignTaskRequest {
                name: task.name.clone(),
                assignee: "wang".into(),
                ..Default::default()
            },
        ),
        Target::new(
            path("DelegateTask"),
            &pb::DelegateTaskRequest {
                name: task.name.clone(),
                delegate: "zhao".into(),
                ..Default::default()
            },
        ),
        Target::new(
            path("RecordMeeting"),
            &pb::RecordMeetingRequest {
                request_id: String::new(),
                meeting: Some(pb::Meeting {
                    department: "ops".into(),
                    title: "Weekly".into(),
                    held_time: Some(prost_types::Timestamp::default()),
                    attendees: vec!["li".into()],
                    action_items: vec![pb::ActionItem {
                        description: "order chairs".into(),
                        owner: "wang".into(),
                        due_time: Some(prost_types::Timestamp {
                            seconds: 4_000_000_000,
                            nanos: 0,
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            },
        ),
        Target::new(
            path("CancelInstance"),
            &pb::CancelInstanceRequest {
                name: instance.clone(),
                reason: "no budget".into(),
                ..Default::default()
            },
        ),
        Target::new(
            path("ListTasks"),
            &pb::ListTasksRequest {
                instance,
                ..Default::default()
            },
        ),
        Target::new(path("ListInstances"), &pb::ListInstancesRequest::default()),
        Target::new(
            "/procedo.calendar.v1.CalendarService/PutCalendar",
            &cal::PutCalendarRequest {
                calendar: Some(cal::Calendar {
                    id: "site-b".into(),
                    title: "Site B".into(),
                    time_zone: "Asia/Shanghai".into(),
                    hours: vec![cal::WorkingHours {
                        weekday: cal::Weekday::Monday as i32,
                        periods: vec![cal::Period {
                            start: "09:00".into(),
                            end: "17:00".into(),
                        }],
                    }],
                    holidays: vec![cal::Holiday {
                        name: "Site day".into(),
                        start_date: "2026-12-24".into(),
                        end_date: "2026-12-25".into(),
                    }],
                    make_up_days: vec![cal::MakeUpDay {
                        name: "Make-up".into(),
                        date: "2026-12-26".into(),
                        hours_of: cal::Weekday::Monday as i32,
                    }],
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
        Target::new(
            "/procedo.calendar.v1.CalendarService/ImportCalendar",
            &cal::ImportCalendarRequest {
                id: "site-c".into(),
                format: cal::CalendarFormat::Icalendar as i32,
                content: "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261001\n\
                          DTEND;VALUE=DATE:20261008\nSUMMARY:National Day\nEND:VEVENT\n\
                          END:VCALENDAR\n"
                    .into(),
                ..Default::default()
            },
        ),
        Target::new(
            "/procedo.calendar.v1.CalendarService/ListCalendarVersions",
            &cal::ListCalendarVersionsRequest {
                id: "default".into(),
                ..Default::default()
            },
        ),
        Target::new(
            "/procedo.common.v1.EventSinkService/Deliver",
            &common::DeliverRequest {
                event: Some(common::Event {
                    id: "e-1".into(),
                    source: "procedo.intake".into(),
                    r#type: "procedo.intake.v1.application.accepted".into(),
                    ..Default::default()
                }),
            },
        ),
    ];

    fuzz(
        &runtime,
        &app.server.channel,
        &app.tokens.token(Role::Admin),
        &targets,
    );

    let still = runtime.block_on(
        app.client(Role::Auditor)
            .list_instances(pb::ListInstancesRequest::default()),
    );
    assert!(still.is_ok(), "workflow still serves: {still:?}");
}
