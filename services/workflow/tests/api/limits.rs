//! Every repeated field has a maximum, refused with a field violation
//! before anything is stored.

use procedo_platform::identity::Role;
use procedo_proto::workflow as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{TestWorkflow, hours, small_definition, violated_fields};

backend_tests!(lists_beyond_their_maximum_are_refused_and_nothing_is_stored);

async fn lists_beyond_their_maximum_are_refused_and_nothing_is_stored(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let many = |n: usize| (0..n).map(|i| format!("d{i}")).collect::<Vec<_>>();

    let meeting = app
        .person("li", "sales", &[Role::DepartmentHead], "", 0)
        .record_meeting(pb::RecordMeetingRequest {
            request_id: String::new(),
            meeting: Some(pb::Meeting {
                title: "Weekly".into(),
                held_time: Some(prost_types::Timestamp::default()),
                attendees: many(501),
                action_items: vec![pb::ActionItem::default(); 10_000],
                ..Default::default()
            }),
        })
        .await
        .expect_err("too many");
    let start = app
        .person("li", "sales", &[Role::DepartmentHead], "", 0)
        .start_instance(pb::StartInstanceRequest {
            process_key: "standard".into(),
            business_key: "b-1".into(),
            business_type: "project".into(),
            title: "Many reviewers".into(),
            participants: Some(pb::Participants {
                review_departments: many(10_000),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect_err("too many departments");
    let mut definition = small_definition("long", hours(1));
    definition.steps[0].standard = many(100_000);
    let deploy = app
        .client(Role::Admin)
        .deploy_process_definition(pb::DeployProcessDefinitionRequest {
            request_id: String::new(),
            definition: Some(definition),
        })
        .await
        .expect_err("too long a standard");

    assert_eq!(meeting.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&meeting),
        ["meeting.attendees", "meeting.action_items"]
    );
    assert_eq!(start.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&start), ["participants.review_departments"]);
    assert_eq!(deploy.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&deploy),
        ["definition.steps[request].standard"]
    );
    let instances = app
        .client(Role::Admin)
        .list_instances(pb::ListInstancesRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .instances;
    assert!(instances.is_empty());
}
