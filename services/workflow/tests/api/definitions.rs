use procedo_platform::identity::Role;
use procedo_proto::workflow as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{TestWorkflow, decide, hours, small_definition, violated_fields};

backend_tests!(
    deploying_a_changed_definition_makes_a_new_version_and_running_instances_stay,
    each_kind_of_bad_definition_is_refused_naming_the_step,
    validating_reports_the_same_problems_and_deploys_nothing,
    the_standard_process_is_built_in_and_drawn_as_mermaid_and_dot,
);

async fn deploy(
    app: &TestWorkflow,
    definition: pb::ProcessDefinition,
) -> Result<pb::ProcessDefinition, tonic::Status> {
    app.client(Role::Admin)
        .deploy_process_definition(pb::DeployProcessDefinitionRequest {
            request_id: String::new(),
            definition: Some(definition),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn deploying_a_changed_definition_makes_a_new_version_and_running_instances_stay(
    backend: Backend,
) {
    let app = TestWorkflow::spawn(backend).await;
    let v1 = deploy(&app, small_definition("purchase", hours(8)))
        .await
        .expect("v1");
    let same = deploy(&app, small_definition("purchase", hours(8)))
        .await
        .expect("unchanged");
    let mut head = app.person("li", "sales", &[Role::DepartmentHead], "", 0);
    let running = head
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
    let v2 = deploy(&app, small_definition("purchase", hours(24)))
        .await
        .expect("v2");

    assert_eq!(v1.version, 1);
    assert_eq!(v1.name, "processDefinitions/purchase/versions/1");
    assert_eq!(same.version, 1, "the same content is not a new version");
    assert_eq!(v2.version, 2);
    assert_eq!(running.definition, "processDefinitions/purchase/versions/1");
    let request = app.task(&running.name, "request", None).await;
    let allowed =
        request.due_time.expect("due").seconds - request.create_time.expect("created").seconds;
    assert_eq!(
        allowed,
        8 * 3600,
        "the running instance keeps version 1's time limit"
    );
    app.person("wang", "sales", &[Role::Executor], "", 0)
        .complete_task(decide(&request, pb::Decision::Complete, ""))
        .await
        .expect("done");
    let review = app.task(&running.name, "review", None).await;
    let allowed =
        review.due_time.expect("due").seconds - review.create_time.expect("created").seconds;
    assert_eq!(allowed, 8 * 3600);
    let latest = app
        .client(Role::Auditor)
        .get_process_definition(pb::GetProcessDefinitionRequest {
            name: "processDefinitions/purchase".into(),
        })
        .await
        .expect("latest")
        .into_inner();
    assert_eq!(latest.version, 2);
    assert_eq!(latest.deployed_by.expect("deployer").subject, "admin-user");
}

async fn each_kind_of_bad_definition_is_refused_naming_the_step(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let good = small_definition("purchase", hours(8));
    let mut cases: Vec<(&str, pb::ProcessDefinition, &str, &str)> = Vec::new();

    let mut no_owner = good.clone();
    no_owner.steps[1].owner = None;
    cases.push((
        "no owner",
        no_owner,
        "definition.steps[review].owner",
        "accountable owner",
    ));
    let mut no_standard = good.clone();
    no_standard.steps[0].standard.clear();
    cases.push((
        "no standard",
        no_standard,
        "definition.steps[request].standard",
        "completion standard",
    ));
    let mut no_limit = good.clone();
    no_limit.steps[0].time_limit = None;
    cases.push((
        "no time limit",
        no_limit,
        "definition.steps[request].time_limit",
        "time limit",
    ));
    let mut no_content = good.clone();
    no_content.steps[1].content = String::new();
    cases.push((
        "no content",
        no_content,
        "definition.steps[review].content",
        "work content",
    ));
    let mut same_id = good.clone();
    same_id.steps[1].id = "request".into();
    cases.push((
        "repeated id",
        same_id,
        "definition.steps[request].id",
        "another step",
    ));
    let mut duplicate = good.clone();
    let mut copy = duplicate.steps[0].clone();
    copy.id = "request2".into();
    duplicate.steps.push(copy);
    duplicate.transitions.push(pb::Transition {
        from_step: "request2".into(),
        decision: pb::Decision::Complete as i32,
        to_step: "review".into(),
        kind: pb::TransitionKind::Forward as i32,
    });
    cases.push((
        "duplicated step",
        duplicate,
        "definition.steps[request2]",
        "duplicates step request",
    ));
    let mut dangling = good.clone();
    dangling.transitions[0].to_step = "nowhere".into();
    cases.push((
        "dangling transition",
        dangling,
        "definition.transitions[0].to_step",
        "\"nowhere\" does not exist",
    ));
    let mut crossing = good.clone();
    crossing.transitions[2].kind = pb::TransitionKind::Forward as i32;
    cases.push((
        "crossing path",
        crossing,
        "definition.steps[request]",
        "crossing path",
    ));
    let mut unreachable = good.clone();
    let mut orphan = unreachable.steps[0].clone();
    orphan.id = "orphan".into();
    orphan.content = "nobody gets here".into();
    unreachable.steps.push(orphan);
    unreachable.transitions.push(pb::Transition {
        from_step: "orphan".into(),
        decision: pb::Decision::Complete as i32,
        to_step: String::new(),
        kind: pb::TransitionKind::Forward as i32,
    });
    cases.push((
        "unreachable step",
        unreachable,
        "definition.steps[orphan]",
        "cannot be reached",
    ));
    let mut endless = good.clone();
    endless.transitions[1] = pb::Transition {
        from_step: "review".into(),
        decision: pb::Decision::Approve as i32,
        to_step: "request".into(),
        kind: pb::TransitionKind::SendBack as i32,
    };
    cases.push((
        "no end",
        endless,
        "definition.steps[review]",
        "cannot reach the end",
    ));

    for (what, definition, field, words) in cases {
        let err = deploy(&app, definition).await.expect_err(what);
        assert_eq!(err.code(), Code::InvalidArgument, "{what}");
        assert!(
            violated_fields(&err).iter().any(|f| f == field),
            "{what}: {:?} in {err:?}",
            violated_fields(&err)
        );
        assert!(err.message().contains(words), "{what}: {}", err.message());
    }
}

async fn validating_reports_the_same_problems_and_deploys_nothing(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let mut bad = small_definition("purchase", hours(8));
    bad.steps[1].owner = None;
    let mut auditor = app.client(Role::Auditor);

    let report = auditor
        .validate_process_definition(pb::ValidateProcessDefinitionRequest {
            definition: Some(bad),
        })
        .await
        .expect("validated")
        .into_inner();
    let good = auditor
        .validate_process_definition(pb::ValidateProcessDefinitionRequest {
            definition: Some(small_definition("purchase", hours(8))),
        })
        .await
        .expect("validated")
        .into_inner();
    let missing = auditor
        .get_process_definition(pb::GetProcessDefinitionRequest {
            name: "processDefinitions/purchase".into(),
        })
        .await
        .expect_err("nothing deployed");

    assert!(!report.valid);
    assert_eq!(report.problems[0].field, "steps[review].owner");
    assert!(good.valid && good.problems.is_empty());
    assert_eq!(missing.code(), Code::NotFound);
}

async fn the_standard_process_is_built_in_and_drawn_as_mermaid_and_dot(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let mut reader = app.client(Role::Executor);

    let listed = reader
        .list_process_definitions(pb::ListProcessDefinitionsRequest::default())
        .await
        .expect("listed")
        .into_inner();
    let mermaid = reader
        .render_process_diagram(pb::RenderProcessDiagramRequest {
            name: "processDefinitions/standard".into(),
            format: pb::DiagramFormat::Mermaid as i32,
        })
        .await
        .expect("mermaid")
        .into_inner()
        .diagram;
    let dot = reader
        .render_process_diagram(pb::RenderProcessDiagramRequest {
            name: "processDefinitions/standard/versions/1".into(),
            format: pb::DiagramFormat::Dot as i32,
        })
        .await
        .expect("dot")
        .into_inner()
        .diagram;
    let no_format = reader
        .render_process_diagram(pb::RenderProcessDiagramRequest {
            name: "processDefinitions/standard".into(),
            format: 0,
        })
        .await
        .expect_err("format needed");

    assert_eq!(listed.definitions.len(), 1);
    assert_eq!(listed.definitions[0].key, "standard");
    assert_eq!(listed.definitions[0].steps.len(), 8);
    assert!(
        mermaid.contains("approval -->|approve| execution"),
        "{mermaid}"
    );
    assert!(dot.contains("\"rectification\" -> \"acceptance\""), "{dot}");
    assert_eq!(violated_fields(&no_format), ["format"]);
}
