use procedo_platform::identity::Role;
use procedo_platform::time;
use procedo_proto::workflow as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{TestWorkflow, decide, violated_fields};

backend_tests!(
    a_meetings_action_items_become_tasks_for_their_owners,
    a_meeting_needs_attendees_a_time_and_due_dates,
);

async fn a_meetings_action_items_become_tasks_for_their_owners(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let mut head = app.person("li", "sales", &[Role::DepartmentHead], "", 0);
    let due = time::now() + 3 * 86_400_000;

    let meeting = head
        .record_meeting(pb::RecordMeetingRequest {
            request_id: String::new(),
            meeting: Some(pb::Meeting {
                title: "Weekly sales meeting".into(),
                held_time: Some(time::to_timestamp(time::now())),
                attendees: vec!["li".into(), "wang".into(), "zhao".into()],
                progress: "Q3 pipeline up 10%".into(),
                problems: vec!["CRM export is slow".into()],
                coordination_items: vec![pb::CoordinationItem {
                    problem: "CRM export".into(),
                    responsible_department: "it".into(),
                    ..Default::default()
                }],
                action_items: vec![pb::ActionItem {
                    description: "Ask IT for a faster export".into(),
                    owner: "wang".into(),
                    due_time: Some(time::to_timestamp(due)),
                    task: String::new(),
                }],
                ..Default::default()
            }),
        })
        .await
        .expect("recorded")
        .into_inner();
    let mut wang = app.person("wang", "sales", &[Role::Executor], "", 0);
    let mine = wang
        .list_tasks(pb::ListTasksRequest {
            assigned_to_me: true,
            ..Default::default()
        })
        .await
        .expect("mine")
        .into_inner()
        .tasks;
    let other = app
        .person("zhao", "sales", &[Role::Executor], "", 0)
        .complete_task(decide(&mine[0], pb::Decision::Complete, ""))
        .await
        .expect_err("wang's item");
    let done = wang
        .complete_task(decide(&mine[0], pb::Decision::Complete, "asked"))
        .await
        .expect("done")
        .into_inner();
    let listed = head
        .list_meetings(pb::ListMeetingsRequest {
            department: "sales".into(),
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner();

    assert_eq!(meeting.department, "sales");
    assert_eq!(meeting.coordination_items[0].responsible_department, "it");
    assert_eq!(mine.len(), 1);
    assert_eq!(meeting.action_items[0].task, mine[0].name);
    assert_eq!(mine[0].meeting, meeting.name);
    assert_eq!(mine[0].due_time, Some(time::to_timestamp(due)));
    assert_eq!(other.code(), Code::PermissionDenied);
    assert_eq!(done.status(), pb::TaskStatus::Completed);
    assert_eq!(listed.meetings.len(), 1);
}

async fn a_meeting_needs_attendees_a_time_and_due_dates(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;

    let err = app
        .person("li", "sales", &[Role::DepartmentHead], "", 0)
        .record_meeting(pb::RecordMeetingRequest {
            request_id: String::new(),
            meeting: Some(pb::Meeting {
                title: "x".into(),
                action_items: vec![pb::ActionItem {
                    description: "do it".into(),
                    owner: "wang".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        })
        .await
        .expect_err("incomplete minutes");
    let foreign = app
        .person("zhou", "legal", &[Role::DepartmentHead], "", 0)
        .record_meeting(pb::RecordMeetingRequest {
            request_id: String::new(),
            meeting: Some(pb::Meeting {
                department: "sales".into(),
                ..Default::default()
            }),
        })
        .await
        .expect_err("another department");

    assert_eq!(
        violated_fields(&err),
        [
            "meeting.held_time",
            "meeting.attendees",
            "meeting.action_items[0].due_time"
        ]
    );
    assert_eq!(foreign.code(), Code::PermissionDenied);
}
