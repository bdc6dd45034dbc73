//! Whole procedures across intake and workflow (regulation §2.2 → §3.2 →
//! §5.2.1): an application is accepted, its process runs all five stages,
//! and the application and its customer follow along.

use procedo_platform::identity::Role;
use procedo_platform::outbox;
use procedo_platform::time;
use procedo_proto::common;
use procedo_proto::common::Money;
use procedo_proto::document as doc_pb;
use procedo_proto::intake as intake_pb;
use procedo_proto::workflow as pb;
use procedo_testkit::{Backend, backend_tests};
use procedo_tests::{Cluster, DocumentClient, WorkflowClient, eventually};

backend_tests!(
    an_accepted_application_runs_the_standard_process_to_completion_and_the_customer_hears_of_each_stage,
    a_plan_must_exist_and_a_report_must_be_signed_and_a_document_service_that_is_down_is_unavailable,
    a_material_given_as_a_document_must_be_one_the_clerk_may_see,
    an_application_accepted_while_workflow_is_down_starts_exactly_one_instance_once_it_is_back,
);

const CNY_5M: i64 = 500_000_000;

async fn prepare(cluster: &Cluster) {
    cluster
        .intake(cluster.admin())
        .create_application_type(intake_pb::CreateApplicationTypeRequest {
            request_id: String::new(),
            application_type: Some(intake_pb::ApplicationType {
                code: "project".into(),
                display_name: "Project".into(),
                in_scope: true,
                processing_time_limit: Some(prost_types::Duration {
                    seconds: 90 * 86_400,
                    nanos: 0,
                }),
                process_key: "standard".into(),
                handling_department: "sales".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("type");
    cluster
        .workflow(cluster.admin())
        .await
        .publish_authorization_matrix(pb::PublishAuthorizationMatrixRequest {
            request_id: String::new(),
            matrix: Some(pb::AuthorizationMatrix {
                currency_code: "CNY".into(),
                levels: vec![
                    pb::ApprovalLevel {
                        level: 1,
                        name: "Department head".into(),
                    },
                    pb::ApprovalLevel {
                        level: 2,
                        name: "Vice-president".into(),
                    },
                ],
                rules: vec![
                    pb::MatrixRule {
                        business_type: "project".into(),
                        min_minor_units: 0,
                        max_minor_units: 100_000_000,
                        levels: vec![1],
                    },
                    pb::MatrixRule {
                        business_type: "project".into(),
                        min_minor_units: 100_000_000,
                        max_minor_units: 0,
                        levels: vec![1, 2],
                    },
                ],
                ..Default::default()
            }),
        })
        .await
        .expect("matrix");
}

/// Submits and accepts an application; returns its name.
async fn accept_application(cluster: &Cluster) -> intake_pb::Application {
    let mut clerk = cluster.intake(cluster.tokens.token(Role::IntakeClerk));
    let filed = clerk
        .submit_application(intake_pb::SubmitApplicationRequest {
            type_code: "project".into(),
            applicant: Some(intake_pb::Applicant {
                name: "Wang Fang".into(),
                organisation: "Acme".into(),
                email: "wang@example.com".into(),
                ..Default::default()
            }),
            matter: Some(intake_pb::Matter {
                title: "New branch office".into(),
                description: "Demand in the north".into(),
            }),
            amount: Some(Money {
                currency_code: "CNY".into(),
                minor_units: CNY_5M,
            }),
            ..Default::default()
        })
        .await
        .expect("submitted")
        .into_inner();
    clerk
        .review_application(intake_pb::ReviewApplicationRequest {
            name: filed.name.clone(),
            decision: intake_pb::ReviewDecision::Accept as i32,
            ..Default::default()
        })
        .await
        .expect("accepted")
        .into_inner()
}

async fn instance_of(cluster: &Cluster, business_key: &str) -> pb::Instance {
    let key = business_key.to_owned();
    eventually("the workflow instance starts", || {
        let key = key.clone();
        async move {
            let mut workflow = cluster.workflow(cluster.admin()).await;
            let list = workflow
                .list_instances(pb::ListInstancesRequest {
                    business_key: key,
                    ..Default::default()
                })
                .await
                .ok()?
                .into_inner();
            list.instances.into_iter().next()
        }
    })
    .await
}

/// The open task of `step` (for `department`) in `instance`.
async fn task(
    workflow: &mut WorkflowClient,
    instance: &str,
    step: &str,
    department: Option<&str>,
) -> pb::Task {
    let tasks = workflow
        .list_tasks(pb::ListTasksRequest {
            instance: instance.to_owned(),
            status: pb::TaskStatus::Open as i32,
            ..Default::default()
        })
        .await
        .expect("tasks")
        .into_inner()
        .tasks;
    tasks
        .into_iter()
        .find(|t| t.step == step && department.is_none_or(|d| t.department == d))
        .unwrap_or_else(|| panic!("no open {step} task"))
}

/// Drafts the plan as `document`, has it countersigned and approved at
/// level 1, leaving the level 2 approval open.
async fn plan_to_second_approval(
    w: &mut WorkflowClient,
    executor: &mut WorkflowClient,
    reviewer: &mut WorkflowClient,
    level1: &mut WorkflowClient,
    instance: &str,
    document: &str,
) {
    let mut plan = decide(
        &task(w, instance, "plan", None).await,
        pb::Decision::Complete,
        "",
    );
    plan.document = document.into();
    executor.complete_task(plan).await.expect("planned");
    let review = task(w, instance, "joint_review", None).await;
    reviewer
        .complete_task(decide(&review, pb::Decision::Approve, "fine"))
        .await
        .expect("countersigned");
    let approval = task(w, instance, "approval", None).await;
    level1
        .complete_task(decide(&approval, pb::Decision::Approve, "ok"))
        .await
        .expect("level 1");
}

/// Registers a document of category "report" in the document service as
/// `client`, with one version; its name.
async fn document(client: &mut DocumentClient, title: &str) -> String {
    let d = client
        .register_document(doc_pb::RegisterDocumentRequest {
            category: "categories/report".into(),
            title: title.into(),
            ..Default::default()
        })
        .await
        .expect("registered")
        .into_inner();
    client
        .upload_version(futures::stream::iter(vec![
            doc_pb::UploadVersionRequest {
                part: Some(doc_pb::upload_version_request::Part::Metadata(
                    doc_pb::UploadMetadata {
                        document: d.name.clone(),
                        ..Default::default()
                    },
                )),
            },
            doc_pb::UploadVersionRequest {
                part: Some(doc_pb::upload_version_request::Part::Chunk(
                    title.as_bytes().to_vec(),
                )),
            },
        ]))
        .await
        .expect("uploaded");
    d.name
}

/// A "report" category in the document service.
async fn report_category(cluster: &Cluster) {
    cluster
        .document(cluster.admin())
        .await
        .create_category(doc_pb::CreateCategoryRequest {
            request_id: String::new(),
            category: Some(doc_pb::Category {
                code: "report".into(),
                display_name: "Reports".into(),
                number_pattern: "BG-{seq:5}".into(),
                number_reset: doc_pb::NumberReset::Never as i32,
                default_confidentiality: common::Clearance::Internal as i32,
                ..Default::default()
            }),
        })
        .await
        .expect("category");
}

/// Has `reviewer` approve `document` in review, then `signer` sign it.
async fn approve_and_sign(
    author: &mut DocumentClient,
    reviewer: &mut DocumentClient,
    reviewer_subject: &str,
    signer: &mut DocumentClient,
    document: &str,
) {
    let round = author
        .submit_for_review(doc_pb::SubmitForReviewRequest {
            document: document.into(),
            seats: vec![doc_pb::ReviewerSeat {
                seat: Some(doc_pb::reviewer_seat::Seat::Reviewer(
                    reviewer_subject.into(),
                )),
            }],
            ..Default::default()
        })
        .await
        .expect("submitted")
        .into_inner();
    reviewer
        .decide_review(doc_pb::DecideReviewRequest {
            round: round.name,
            decision: doc_pb::ReviewDecision::Approve as i32,
            ..Default::default()
        })
        .await
        .expect("approved");
    signer
        .sign_document(doc_pb::SignDocumentRequest {
            document: document.into(),
            intent: doc_pb::SignatureIntent::Accept as i32,
            ..Default::default()
        })
        .await
        .expect("signed");
}

fn decide(task: &pb::Task, decision: pb::Decision, opinion: &str) -> pb::CompleteTaskRequest {
    pb::CompleteTaskRequest {
        name: task.name.clone(),
        decision: decision as i32,
        opinion: opinion.into(),
        ..Default::default()
    }
}

async fn an_accepted_application_runs_the_standard_process_to_completion_and_the_customer_hears_of_each_stage(
    backend: Backend,
) {
    let cluster = Cluster::start(backend).await;
    prepare(&cluster).await;
    report_category(&cluster).await;
    let application = accept_application(&cluster).await;
    let instance = instance_of(&cluster, &application.name).await;
    assert_eq!(instance.initiator_department, "sales");
    assert_eq!(instance.business_type, "project");
    let name = instance.name.clone();
    let t = &cluster.tokens;
    let mut w = cluster.workflow(cluster.admin()).await;
    let cluster = &cluster;
    let as_ = |token: String| async move { cluster.workflow(token).await };
    let mut executor = as_(t.person("wang", "sales", &[Role::Executor], "PM", 0)).await;
    let mut head = as_(t.person("li", "sales", &[Role::DepartmentHead], "Head of Sales", 0)).await;
    let mut reviewer = as_(t.person("rev", "sales", &[Role::Reviewer], "Reviewer", 0)).await;
    let mut dh = as_(t.person("dh", "sales", &[Role::Approver], "Director", 1)).await;
    let mut vp = as_(t.person("vp", "board", &[Role::Approver], "Vice-president", 2)).await;
    let mut acceptor = as_(t.person("acc", "sales", &[Role::Acceptor], "QA", 0)).await;
    let documents = |token: String| async move { cluster.document(token).await };
    let mut wang_docs = documents(t.person("wang", "sales", &[Role::Executor], "PM", 0)).await;
    let mut rev_docs = documents(t.person("rev", "sales", &[Role::Reviewer], "Reviewer", 0)).await;
    let mut acc_docs = documents(t.person("acc", "sales", &[Role::Acceptor], "QA", 0)).await;
    let plan_1 = document(&mut wang_docs, "Branch plan").await;
    let plan_2 = document(&mut wang_docs, "Branch plan, cut by 10%").await;
    let report = document(&mut wang_docs, "Acceptance report").await;

    // Initiation and the head's review.
    executor
        .complete_task(decide(
            &task(&mut w, &name, "initiation", None).await,
            pb::Decision::Complete,
            "",
        ))
        .await
        .expect("initiated");
    head.complete_task(decide(
        &task(&mut w, &name, "head_review", None).await,
        pb::Decision::Approve,
        "go ahead",
    ))
    .await
    .expect("reviewed");
    // Plan, joint review (the initiating department reviews by default),
    // the first approval level; then level 2 sends back to the plan once.
    plan_to_second_approval(
        &mut w,
        &mut executor,
        &mut reviewer,
        &mut dh,
        &name,
        &plan_1,
    )
    .await;
    let mut back = decide(
        &task(&mut w, &name, "approval", None).await,
        pb::Decision::SendBack,
        "too costly",
    );
    back.send_back_to_step = "plan".into();
    back.required_changes = vec!["cut 10%".into()];
    vp.complete_task(back).await.expect("sent back");
    plan_to_second_approval(
        &mut w,
        &mut executor,
        &mut reviewer,
        &mut dh,
        &name,
        &plan_2,
    )
    .await;
    vp.complete_task(decide(
        &task(&mut w, &name, "approval", None).await,
        pb::Decision::Approve,
        "approved",
    ))
    .await
    .expect("level 2");
    // Execution (the initiating department leads by default).
    executor
        .complete_task(decide(
            &task(&mut w, &name, "execution", None).await,
            pb::Decision::Complete,
            "built",
        ))
        .await
        .expect("executed");
    // Acceptance fails once; rectification; then passes.
    let mut fail = decide(
        &task(&mut w, &name, "acceptance", None).await,
        pb::Decision::Fail,
        "signage missing",
    );
    fail.rectification_requirements = vec!["install signage".into()];
    fail.rectification_deadline = Some(time::to_timestamp(time::now() + 86_400_000));
    acceptor.complete_task(fail).await.expect("failed");
    executor
        .complete_task(decide(
            &task(&mut w, &name, "rectification", None).await,
            pb::Decision::Complete,
            "installed",
        ))
        .await
        .expect("rectified");
    let mut pass = decide(
        &task(&mut w, &name, "acceptance", None).await,
        pb::Decision::Pass,
        "all good",
    );
    pass.document = report.clone();
    let unsigned = acceptor
        .complete_task(pass.clone())
        .await
        .expect_err("the report is not signed yet");
    assert_eq!(unsigned.code(), tonic::Code::FailedPrecondition);
    assert!(
        unsigned.message().contains("not signed by acc"),
        "{}",
        unsigned.message()
    );
    approve_and_sign(&mut wang_docs, &mut rev_docs, "rev", &mut acc_docs, &report).await;
    acceptor.complete_task(pass).await.expect("passed");

    let mut clerk = cluster.intake(cluster.tokens.token(Role::IntakeClerk));
    let completed = eventually("intake sees the application completed", || {
        let mut clerk = clerk.clone();
        let name = application.name.clone();
        async move {
            let a = clerk
                .get_application(intake_pb::GetApplicationRequest { name })
                .await
                .ok()?
                .into_inner();
            (a.status() == intake_pb::ApplicationStatus::Completed).then_some(a)
        }
    })
    .await;
    assert_eq!(completed.process_instance, name);
    let notified = clerk
        .list_notifications(intake_pb::ListNotificationsRequest {
            resource: application.name.clone(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("notifications")
        .into_inner()
        .notifications;
    let mut messages: Vec<String> = notified.iter().map(|n| n.message.clone()).collect();
    messages.reverse();
    let stages = [
        "Initiation",
        "Department head review",
        "Plan drafting",
        "Joint review",
        "Approval",
        "Execution",
        "Acceptance",
        "Rectification",
    ];
    for stage in stages {
        assert!(
            messages
                .iter()
                .any(|m| m.contains(&format!("Current stage: {stage}."))),
            "no notice of {stage}: {messages:#?}"
        );
    }
    assert!(
        messages
            .last()
            .is_some_and(|m| m.contains("has been completed")),
        "{messages:#?}"
    );
    let history = clerk
        .list_application_history(intake_pb::ListApplicationHistoryRequest {
            name: application.name.clone(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("history")
        .into_inner()
        .entries;
    let last = history.last().expect("entries");
    assert_eq!(last.to_status(), intake_pb::ApplicationStatus::Completed);
    assert_eq!(last.actor.as_ref().expect("actor").subject, "acc");
}

async fn an_application_accepted_while_workflow_is_down_starts_exactly_one_instance_once_it_is_back(
    backend: Backend,
) {
    let mut cluster = Cluster::start(backend).await;
    prepare(&cluster).await;
    cluster.stop_workflow().await;

    let application = accept_application(&cluster).await;
    // Intake keeps trying meanwhile: wait until it has failed to deliver.
    eventually("intake tries workflow and fails", || async {
        let tried = outbox::list(cluster.intake_db(), "workflow", None, None, &page())
            .await
            .ok()?;
        tried
            .iter()
            .any(|r| r.attempts.iter().any(|a| !a.success))
            .then_some(())
    })
    .await;
    cluster.start_workflow().await;

    let instance = instance_of(&cluster, &application.name).await;
    let mut clerk = cluster.intake(cluster.tokens.token(Role::IntakeClerk));
    let in_progress = eventually("intake hears the process started", || {
        let mut clerk = clerk.clone();
        let name = application.name.clone();
        async move {
            let a = clerk
                .get_application(intake_pb::GetApplicationRequest { name })
                .await
                .ok()?
                .into_inner();
            (a.status() == intake_pb::ApplicationStatus::InProgress).then_some(a)
        }
    })
    .await;
    // Every event both ways delivered: nothing left that could start a
    // second instance or tell the customer twice.
    eventually("both outboxes drained", || async {
        let workflow_db = cluster.workflow_db()?;
        let (to_workflow, _) = outbox::backlog(cluster.intake_db(), "workflow")
            .await
            .ok()?;
        let (to_intake, _) = outbox::backlog(workflow_db, "intake").await.ok()?;
        (to_workflow == 0 && to_intake == 0).then_some(())
    })
    .await;
    let all = cluster
        .workflow(cluster.admin())
        .await
        .list_instances(pb::ListInstancesRequest {
            business_key: application.name.clone(),
            ..Default::default()
        })
        .await
        .expect("instances")
        .into_inner()
        .instances;

    assert_eq!(all.len(), 1, "exactly one instance");
    assert_eq!(all[0].name, instance.name);
    assert_eq!(in_progress.stage, "Initiation");
    let notices = clerk
        .list_notifications(intake_pb::ListNotificationsRequest {
            resource: application.name.clone(),
            ..Default::default()
        })
        .await
        .expect("notifications")
        .into_inner()
        .notifications;
    let stage_notices = notices
        .iter()
        .filter(|n| n.message.contains("Current stage: Initiation"))
        .count();
    assert_eq!(stage_notices, 1, "the customer hears of the stage once");
}

fn page() -> procedo_platform::paging::Page {
    procedo_platform::paging::Page::rows(100, None)
}

async fn a_plan_must_exist_and_a_report_must_be_signed_and_a_document_service_that_is_down_is_unavailable(
    backend: Backend,
) {
    let mut cluster = Cluster::start(backend).await;
    prepare(&cluster).await;
    report_category(&cluster).await;
    let t = cluster.tokens.clone();
    let mut head = cluster
        .workflow(t.person("li", "sales", &[Role::DepartmentHead], "Head of Sales", 0))
        .await;
    let instance = head
        .start_instance(pb::StartInstanceRequest {
            process_key: "standard".into(),
            business_key: "po-77".into(),
            business_type: "project".into(),
            title: "Showroom".into(),
            ..Default::default()
        })
        .await
        .expect("started")
        .into_inner()
        .name;
    let mut w = cluster.workflow(cluster.admin()).await;
    let mut executor = cluster
        .workflow(t.person("wang", "sales", &[Role::Executor], "PM", 0))
        .await;
    executor
        .complete_task(decide(
            &task(&mut w, &instance, "initiation", None).await,
            pb::Decision::Complete,
            "",
        ))
        .await
        .expect("initiated");
    head.complete_task(decide(
        &task(&mut w, &instance, "head_review", None).await,
        pb::Decision::Approve,
        "go",
    ))
    .await
    .expect("reviewed");
    let plan_task = task(&mut w, &instance, "plan", None).await;
    let mut plan = decide(&plan_task, pb::Decision::Complete, "");
    plan.document = "documents/0192f0c1-0000-7000-8000-000000000001".into();
    let missing = executor
        .complete_task(plan.clone())
        .await
        .expect_err("no such document");
    assert_eq!(missing.code(), tonic::Code::FailedPrecondition);
    assert!(
        missing.message().contains("does not exist"),
        "{}",
        missing.message()
    );
    plan.document = "plan.pdf".into();
    let not_a_name = executor
        .complete_task(plan.clone())
        .await
        .expect_err("not a name");
    assert_eq!(not_a_name.code(), tonic::Code::InvalidArgument);

    let mut docs = cluster
        .document(t.person("wang", "sales", &[Role::Executor], "PM", 0))
        .await;
    plan.document = document(&mut docs, "Showroom plan").await;
    cluster.stop_document().await;
    let started = std::time::Instant::now();
    let down = executor
        .complete_task(plan.clone())
        .await
        .expect_err("the document service is down");
    assert_eq!(down.code(), tonic::Code::Unavailable, "{down:?}");
    assert!(
        down.message().contains("document service"),
        "{}",
        down.message()
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "never a hang"
    );
    let still_open = task(&mut w, &instance, "plan", None).await;
    assert_eq!(still_open.name, plan_task.name, "nothing changed");
}

async fn a_material_given_as_a_document_must_be_one_the_clerk_may_see(backend: Backend) {
    let cluster = Cluster::start(backend).await;
    prepare(&cluster).await;
    report_category(&cluster).await;
    let t = cluster.tokens.clone();
    let clerk_token = t.person("zhou", "front-desk", &[Role::IntakeClerk], "Clerk", 0);
    let mut docs = cluster.document(clerk_token.clone()).await;
    let scanned = document(&mut docs, "Scanned business licence").await;
    let submission = |document_ref: &str| intake_pb::SubmitApplicationRequest {
        type_code: "project".into(),
        applicant: Some(intake_pb::Applicant {
            name: "Wang Fang".into(),
            phone: "13800138000".into(),
            ..Default::default()
        }),
        matter: Some(intake_pb::Matter {
            title: "Branch office".into(),
            description: String::new(),
        }),
        materials: vec![intake_pb::Material {
            name: "Business licence".into(),
            document_ref: document_ref.into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut clerk = cluster.intake(clerk_token);
    let missing = clerk
        .submit_application(submission("documents/0192f0c1-0000-7000-8000-000000000009"))
        .await
        .expect_err("no such document");
    assert_eq!(missing.code(), tonic::Code::FailedPrecondition);
    assert!(
        missing.message().contains("does not exist"),
        "{}",
        missing.message()
    );
    let filed = clerk
        .submit_application(submission(&scanned))
        .await
        .expect("a real document")
        .into_inner();
    assert_eq!(filed.materials[0].document_ref, scanned);
}
