use procedo_platform::identity::Role;
use procedo_proto::workflow as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{TestWorkflow, decide, hours, small_definition, violated_fields};

backend_tests!(
    a_task_is_listed_for_its_role_and_department_and_claimed_by_one_person,
    a_department_head_reassigns_and_the_assignee_delegates,
    a_decision_the_step_cannot_take_is_refused_and_changes_nothing,
    a_work_queue_holds_the_open_tasks_that_are_mine_or_free_for_my_role_and_department,
);

async fn setup(app: &TestWorkflow) -> pb::Instance {
    app.client(Role::Admin)
        .deploy_process_definition(pb::DeployProcessDefinitionRequest {
            request_id: String::new(),
            definition: Some(small_definition("purchase", hours(8))),
        })
        .await
        .expect("deployed");
    purchase(app, "po-1", "Laptops").await
}

/// Sales' head starts a purchase of `title`.
async fn purchase(app: &TestWorkflow, business_key: &str, title: &str) -> pb::Instance {
    app.person("li", "sales", &[Role::DepartmentHead], "", 0)
        .start_instance(pb::StartInstanceRequest {
            process_key: "purchase".into(),
            business_key: business_key.into(),
            business_type: "purchase".into(),
            title: title.into(),
            ..Default::default()
        })
        .await
        .expect("started")
        .into_inner()
}

async fn a_task_is_listed_for_its_role_and_department_and_claimed_by_one_person(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let instance = setup(&app).await;
    let mut wang = app.person("wang", "sales", &[Role::Executor], "", 0);
    let mut zhao = app.person("zhao", "sales", &[Role::Executor], "", 0);
    let mut outsider = app.person("qian", "legal", &[Role::Executor], "", 0);

    let seen_by_wang = wang
        .list_tasks(pb::ListTasksRequest::default())
        .await
        .expect("list")
        .into_inner();
    let seen_by_outsider = outsider
        .list_tasks(pb::ListTasksRequest::default())
        .await
        .expect("list")
        .into_inner();
    let task = seen_by_wang.tasks[0].clone();
    let claimed = wang
        .claim_task(pb::ClaimTaskRequest {
            name: task.name.clone(),
            ..Default::default()
        })
        .await
        .expect("claimed")
        .into_inner();
    let taken = zhao
        .complete_task(decide(&task, pb::Decision::Complete, ""))
        .await
        .expect_err("claimed by wang");
    let foreign = outsider
        .complete_task(decide(&task, pb::Decision::Complete, ""))
        .await
        .expect_err("other department");
    let mine = wang
        .list_tasks(pb::ListTasksRequest {
            assigned_to_me: true,
            ..Default::default()
        })
        .await
        .expect("mine")
        .into_inner();
    let zhao_now = zhao
        .list_tasks(pb::ListTasksRequest {
            actionable: true,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();

    assert_eq!(seen_by_wang.tasks.len(), 1);
    assert_eq!(task.instance, instance.name);
    assert!(
        seen_by_outsider.tasks.is_empty(),
        "another department's task is not offered"
    );
    assert_eq!(claimed.assignee, "wang");
    let audit = procedo_platform::outbox::list(
        &app.db,
        procedo_platform::outbox::AUDIT,
        Some(&task.name),
        None,
        &procedo_platform::paging::Page::rows(10, None),
    )
    .await
    .expect("audit records");
    assert_eq!(audit.len(), 1, "claiming is audited");
    assert_eq!(taken.code(), Code::PermissionDenied);
    assert!(taken.message().contains("assigned to wang"));
    assert_eq!(foreign.code(), Code::PermissionDenied);
    assert_eq!(mine.tasks.len(), 1);
    assert!(
        zhao_now.tasks.is_empty(),
        "a claimed task is no longer offered to others"
    );
}

async fn a_department_head_reassigns_and_the_assignee_delegates(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let instance = setup(&app).await;
    let task = app.task(&instance.name, "request", None).await;
    let mut head = app.person("li", "sales", &[Role::DepartmentHead], "", 0);
    let mut zhao = app.person("zhao", "sales", &[Role::Executor], "", 0);

    let reassigned = head
        .reassign_task(pb::ReassignTaskRequest {
            name: task.name.clone(),
            assignee: "zhao".into(),
            reason: "wang is on leave".into(),
            ..Default::default()
        })
        .await
        .expect("reassigned")
        .into_inner();
    let not_assignee = app
        .person("wang", "sales", &[Role::Executor], "", 0)
        .delegate_task(pb::DelegateTaskRequest {
            name: task.name.clone(),
            delegate: "sun".into(),
            ..Default::default()
        })
        .await
        .expect_err("only the assignee delegates");
    let delegated = zhao
        .delegate_task(pb::DelegateTaskRequest {
            name: task.name.clone(),
            delegate: "sun".into(),
            reason: "sun knows the vendor".into(),
            ..Default::default()
        })
        .await
        .expect("delegated")
        .into_inner();
    let done = app
        .person("sun", "ops", &[], "", 0)
        .complete_task(decide(&task, pb::Decision::Complete, "ordered"))
        .await
        .expect("the delegate completes")
        .into_inner();
    let foreign_head = app
        .person("zhou", "legal", &[Role::DepartmentHead], "", 0)
        .reassign_task(pb::ReassignTaskRequest {
            name: app.task(&instance.name, "review", None).await.name,
            assignee: "x".into(),
            ..Default::default()
        })
        .await
        .expect_err("not their department");

    assert_eq!(reassigned.assignee, "zhao");
    assert_eq!(not_assignee.code(), Code::PermissionDenied);
    assert_eq!(
        (delegated.assignee.as_str(), delegated.delegated_by.as_str()),
        ("sun", "zhao")
    );
    assert_eq!(done.signature.expect("signed").signer, "sun");
    assert_eq!(foreign_head.code(), Code::PermissionDenied);
}

async fn a_decision_the_step_cannot_take_is_refused_and_changes_nothing(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let instance = setup(&app).await;
    let task = app.task(&instance.name, "request", None).await;
    let mut wang = app.person("wang", "sales", &[Role::Executor], "", 0);

    let wrong = wang
        .complete_task(decide(&task, pb::Decision::Approve, ""))
        .await
        .expect_err("a task completes");
    let unknown = wang
        .complete_task(decide(&task, pb::Decision::Complete, ""))
        .await;
    let stale = wang
        .complete_task(pb::CompleteTaskRequest {
            etag: task.etag.clone(),
            ..decide(&task, pb::Decision::Complete, "")
        })
        .await
        .expect_err("already completed, etag moved on");

    assert_eq!(violated_fields(&wrong), ["decision"]);
    assert!(wrong.message().contains("COMPLETE"));
    assert!(unknown.is_ok());
    assert_eq!(stale.code(), Code::Aborted);
    assert_eq!(app.instance(&instance.name).await.current_steps, ["review"]);
}

async fn a_work_queue_holds_the_open_tasks_that_are_mine_or_free_for_my_role_and_department(
    backend: Backend,
) {
    let app = TestWorkflow::spawn(backend).await;
    let first = setup(&app).await;
    let second = purchase(&app, "po-2", "Monitors").await;
    let third = purchase(&app, "po-3", "Desks").await;
    let mut wang = app.person("wang", "sales", &[Role::Executor], "", 0);
    let mut zhao = app.person("zhao", "sales", &[Role::Executor], "", 0);
    let done = app.task(&first.name, "request", None).await;
    let claimed_by_zhao = app.task(&second.name, "request", None).await;
    let free = app.task(&third.name, "request", None).await;
    wang.complete_task(decide(&done, pb::Decision::Complete, "written"))
        .await
        .expect("completed");
    zhao.claim_task(pb::ClaimTaskRequest {
        name: claimed_by_zhao.name.clone(),
        ..Default::default()
    })
    .await
    .expect("claimed");

    let queue = |client: &mut crate::helpers::WorkflowClient, status: pb::TaskStatus| {
        let mut client = client.clone();
        async move {
            let mut names: Vec<String> = client
                .list_tasks(pb::ListTasksRequest {
                    actionable: true,
                    status: status as i32,
                    ..Default::default()
                })
                .await
                .expect("the work queue")
                .into_inner()
                .tasks
                .into_iter()
                .map(|t| t.name)
                .collect();
            names.sort();
            names
        }
    };
    let mut zhaos = vec![claimed_by_zhao.name.clone(), free.name.clone()];
    zhaos.sort();
    assert_eq!(
        queue(&mut wang, pb::TaskStatus::Unspecified).await,
        [free.name],
        "not the task wang completed, not the one zhao claimed"
    );
    assert_eq!(queue(&mut zhao, pb::TaskStatus::Unspecified).await, zhaos);
    assert_eq!(queue(&mut zhao, pb::TaskStatus::Open).await, zhaos);
    assert!(
        queue(&mut wang, pb::TaskStatus::Completed).await.is_empty(),
        "a completed task is acted on no more"
    );
    let mut head = app.person("li", "sales", &[Role::DepartmentHead], "", 0);
    let review = app.task(&first.name, "review", None).await;
    assert_eq!(
        queue(&mut head, pb::TaskStatus::Unspecified).await,
        [review.name]
    );
    let mut outsider = app.person("qian", "legal", &[Role::Executor], "", 0);
    assert!(
        queue(&mut outsider, pb::TaskStatus::Unspecified)
            .await
            .is_empty(),
        "another department's tasks are not in its queue"
    );
}
