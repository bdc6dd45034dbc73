//! Who sees which tasks and instances: one rule for ListTasks, GetTask,
//! ListInstances, GetInstance and WatchInstance, and filters that only
//! ever narrow it.

use procedo_platform::identity::Role;
use procedo_proto::workflow as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{TestWorkflow, WorkflowClient, hours, small_definition};

backend_tests!(
    a_caller_sees_the_tasks_they_may_act_on_and_their_departments_and_no_others,
    filters_narrow_what_a_caller_sees_and_never_refuse_or_widen_it,
    an_instance_is_seen_by_the_departments_taking_part_and_by_auditors_only,
);

/// A purchase of sales, with finance joining the review; its first task is
/// the sales executors' request.
async fn purchase(app: &TestWorkflow) -> (pb::Instance, pb::Task) {
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
            participants: Some(pb::Participants {
                review_departments: vec!["finance".into()],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("started")
        .into_inner();
    let task = app.task(&instance.name, "request", None).await;
    (instance, task)
}

async fn tasks(client: &mut WorkflowClient, request: pb::ListTasksRequest) -> Vec<String> {
    client
        .list_tasks(request)
        .await
        .expect("listed")
        .into_inner()
        .tasks
        .into_iter()
        .map(|t| t.name)
        .collect()
}

async fn a_caller_sees_the_tasks_they_may_act_on_and_their_departments_and_no_others(
    backend: Backend,
) {
    let app = TestWorkflow::spawn(backend).await;
    let (instance, task) = purchase(&app).await;
    let of_instance = || pb::ListTasksRequest {
        instance: instance.name.clone(),
        ..Default::default()
    };
    let get = |name: &str| pb::GetTaskRequest {
        name: name.to_owned(),
    };
    let mut executor = app.person("wang", "sales", &[Role::Executor], "", 0);
    let mut colleague = app.person("zhou", "sales", &[Role::Reviewer], "", 0);
    let mut outsider = app.person("qian", "legal", &[Role::Executor], "", 0);
    let mut auditor = app.person("sun", "audit", &[Role::Auditor], "", 0);

    assert_eq!(
        tasks(&mut executor, of_instance()).await,
        std::slice::from_ref(&task.name)
    );
    assert_eq!(
        tasks(&mut colleague, of_instance()).await,
        std::slice::from_ref(&task.name),
        "a department's tasks are visible to all of it"
    );
    assert!(
        tasks(
            &mut colleague,
            pb::ListTasksRequest {
                actionable: true,
                ..Default::default()
            }
        )
        .await
        .is_empty(),
        "but only those who may act on it have it in their queue"
    );
    assert!(tasks(&mut outsider, of_instance()).await.is_empty());
    assert_eq!(
        tasks(&mut auditor, of_instance()).await,
        std::slice::from_ref(&task.name)
    );

    executor
        .get_task(get(&task.name))
        .await
        .expect("the executor's");
    auditor
        .get_task(get(&task.name))
        .await
        .expect("the auditor's");
    let denied = outsider
        .get_task(get(&task.name))
        .await
        .expect_err("another department's");
    assert_eq!(denied.code(), Code::PermissionDenied);
}

async fn filters_narrow_what_a_caller_sees_and_never_refuse_or_widen_it(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let (_, task) = purchase(&app).await;
    let department = |d: &str| pb::ListTasksRequest {
        department: d.to_owned(),
        ..Default::default()
    };
    let mut admin = app.client(Role::Admin);
    let mut executor = app.person("wang", "sales", &[Role::Executor], "", 0);
    let mut legal_head = app.person("zhao", "legal", &[Role::DepartmentHead], "", 0);

    assert_eq!(
        tasks(&mut admin, department("sales")).await,
        std::slice::from_ref(&task.name)
    );
    assert!(
        tasks(&mut admin, department("legal")).await.is_empty(),
        "a department filter does not add other departments"
    );
    assert_eq!(
        tasks(&mut executor, department("sales")).await,
        std::slice::from_ref(&task.name),
        "anyone may filter by their own department"
    );
    assert!(
        tasks(&mut legal_head, department("sales")).await.is_empty(),
        "another department's head sees nothing of it, and is not refused"
    );
    assert!(
        tasks(
            &mut executor,
            pb::ListTasksRequest {
                assigned_to_me: true,
                ..Default::default()
            }
        )
        .await
        .is_empty(),
        "nothing is assigned to anyone yet"
    );
}

async fn an_instance_is_seen_by_the_departments_taking_part_and_by_auditors_only(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let (instance, _) = purchase(&app).await;
    let get = || pb::GetInstanceRequest {
        name: instance.name.clone(),
    };
    let watch = || pb::WatchInstanceRequest {
        name: instance.name.clone(),
        after_sequence: 0,
    };
    let listed = |mut client: WorkflowClient| async move {
        client
            .list_instances(pb::ListInstancesRequest::default())
            .await
            .expect("listed")
            .into_inner()
            .instances
            .into_iter()
            .map(|i| i.name)
            .collect::<Vec<_>>()
    };
    let seller = || app.person("wang", "sales", &[Role::Executor], "", 0);
    let reviewer = || app.person("hu", "finance", &[Role::Reviewer], "", 0);
    let auditor = || app.person("sun", "audit", &[Role::Auditor], "", 0);
    let outsider = || app.person("qian", "legal", &[Role::DepartmentHead], "", 0);

    for (who, mut client) in [
        ("sales", seller()),
        ("finance", reviewer()),
        ("audit", auditor()),
    ] {
        client
            .get_instance(get())
            .await
            .unwrap_or_else(|e| panic!("{who}: {e}"));
        client
            .watch_instance(watch())
            .await
            .unwrap_or_else(|e| panic!("{who}: {e}"));
    }
    assert_eq!(
        listed(reviewer()).await,
        std::slice::from_ref(&instance.name)
    );
    assert_eq!(
        listed(auditor()).await,
        std::slice::from_ref(&instance.name)
    );

    let denied = outsider()
        .get_instance(get())
        .await
        .expect_err("legal takes no part");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = outsider()
        .watch_instance(watch())
        .await
        .expect_err("nor may watch");
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(listed(outsider()).await.is_empty());
}
