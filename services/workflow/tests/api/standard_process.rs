//! The standard business process of §3.2, all five stages, through the API.

use futures::StreamExt as _;
use procedo_platform::identity::Role;
use procedo_platform::time;
use procedo_proto::workflow as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{TestWorkflow, cny, decide, violated_fields};

backend_tests!(
    the_standard_process_runs_all_five_stages_with_send_backs_and_rectification,
    starting_twice_with_one_business_key_makes_one_instance,
    cancelling_an_instance_withdraws_its_open_tasks,
);

const PLAN: &str = "documents/plan";

async fn the_standard_process_runs_all_five_stages_with_send_backs_and_rectification(
    backend: Backend,
) {
    let app = TestWorkflow::spawn(backend).await;
    app.publish_matrix().await;
    let mut head = app.person("li", "sales", &[Role::DepartmentHead], "Head of Sales", 0);
    let mut drafter = app.person("wang", "sales", &[Role::Executor], "Project manager", 0);
    let mut finance = app.person("fin", "finance", &[Role::Reviewer], "Controller", 0);
    let mut legal = app.person("leg", "legal", &[Role::Reviewer], "Counsel", 0);
    let mut it_reviewer = app.person("itr", "it", &[Role::Reviewer], "Architect", 0);
    let mut approver1 = app.person("dh", "sales", &[Role::Approver], "Director", 1);
    let mut approver2 = app.person("vp", "board", &[Role::Approver], "Vice-president", 2);
    let mut lead = app.person("ops1", "ops", &[Role::Executor], "Ops lead", 0);
    let mut support = app.person("it1", "it", &[Role::Executor], "Engineer", 0);
    let mut acceptor = app.person("acc", "sales", &[Role::Acceptor], "Sales QA", 0);

    // Initiation (§3.2.1).
    let instance = head
        .start_instance(pb::StartInstanceRequest {
            process_key: "standard".into(),
            business_key: "crm-2026-001".into(),
            business_type: "project".into(),
            amount: Some(cny(500_000_000)),
            title: "New branch office".into(),
            participants: Some(pb::Participants {
                review_departments: vec!["finance".into(), "legal".into()],
                lead_department: "ops".into(),
                supporting_departments: vec!["it".into()],
                acceptance_departments: vec![],
            }),
            ..Default::default()
        })
        .await
        .expect("started")
        .into_inner();
    assert_eq!(instance.current_steps, ["initiation"]);
    assert_eq!(instance.initiator_department, "sales");
    let name = instance.name.clone();

    let mine = drafter
        .list_tasks(pb::ListTasksRequest::default())
        .await
        .expect("my tasks")
        .into_inner();
    assert_eq!(mine.tasks.len(), 1, "the drafter sees the initiation task");
    let mut complete_initiation = decide(&mine.tasks[0], pb::Decision::Complete, "form filled in");
    complete_initiation.form = Some(pb::InitiationForm {
        background: "Demand in the north".into(),
        goals: "Open by Q3".into(),
        requirements: "Budget 5m".into(),
    });
    drafter
        .complete_task(complete_initiation.clone())
        .await
        .expect("initiation done");

    // The head rejects once; the initiation comes back with the opinion.
    let review = app.task(&name, "head_review", None).await;
    let refused = finance
        .complete_task(decide(&review, pb::Decision::Approve, "ok"))
        .await
        .expect_err("not the head");
    assert_eq!(refused.code(), Code::PermissionDenied);
    head.complete_task(decide(&review, pb::Decision::Reject, "goals too vague"))
        .await
        .expect("rejected");
    let again = app.task(&name, "initiation", None).await;
    assert!(
        again
            .prior_opinions
            .iter()
            .any(|o| o.contains("goals too vague") && o.contains("Head of Sales")),
        "{again:?}"
    );
    complete_initiation.name = again.name.clone();
    drafter
        .complete_task(complete_initiation)
        .await
        .expect("initiation redone");
    let review = app.task(&name, "head_review", None).await;
    let signed = head
        .complete_task(decide(&review, pb::Decision::Approve, "agreed"))
        .await
        .expect("approved")
        .into_inner();
    let signature = signed.signature.expect("a signed opinion");
    assert_eq!(
        (signature.signer.as_str(), signature.signer_title.as_str()),
        ("li", "Head of Sales")
    );
    assert!(signature.time.is_some());

    // Plan (§3.2.2): the plan is a document.
    let plan = app.task(&name, "plan", None).await;
    let no_plan = drafter
        .complete_task(decide(&plan, pb::Decision::Complete, ""))
        .await
        .expect_err("no document");
    assert_eq!(violated_fields(&no_plan), ["document"]);
    let mut with_plan = decide(&plan, pb::Decision::Complete, "");
    with_plan.document = format!("{PLAN}-1");
    drafter
        .complete_task(with_plan)
        .await
        .expect("plan drafted");

    // Joint review: one countersign per department; one objection sends the
    // plan back with every opinion.
    let fin = app.task(&name, "joint_review", Some("finance")).await;
    let leg = app.task(&name, "joint_review", Some("legal")).await;
    finance
        .complete_task(decide(&fin, pb::Decision::Approve, "budget fine"))
        .await
        .expect("finance agrees");
    assert_eq!(
        app.instance(&name).await.current_steps,
        ["joint_review"],
        "waits for legal"
    );
    legal
        .complete_task(decide(&leg, pb::Decision::Reject, "risk section missing"))
        .await
        .expect("legal objects");
    let plan = app.task(&name, "plan", None).await;
    assert_eq!(plan.prior_opinions.len(), 2, "{:?}", plan.prior_opinions);
    assert!(
        plan.prior_opinions
            .iter()
            .any(|o| o.contains("finance (APPROVE): budget fine"))
    );
    assert!(
        plan.prior_opinions
            .iter()
            .any(|o| o.contains("legal (REJECT): risk section missing"))
    );
    let mut with_plan = decide(&plan, pb::Decision::Complete, "risks added");
    with_plan.document = format!("{PLAN}-2");
    drafter
        .complete_task(with_plan)
        .await
        .expect("plan redrafted");

    // A reviewing department joins the running joint review.
    head.update_participants(pb::UpdateParticipantsRequest {
        name: name.clone(),
        participants: Some(pb::Participants {
            review_departments: vec!["finance".into(), "legal".into(), "it".into()],
            lead_department: "ops".into(),
            supporting_departments: vec!["it".into()],
            acceptance_departments: vec![],
        }),
        ..Default::default()
    })
    .await
    .expect("it joins");
    let reviewers = app.open_tasks(&name, "joint_review").await;
    assert_eq!(reviewers.len(), 3);
    for (client, department) in [
        (&mut finance, "finance"),
        (&mut legal, "legal"),
        (&mut it_reviewer, "it"),
    ] {
        let task = app.task(&name, "joint_review", Some(department)).await;
        client
            .complete_task(decide(&task, pb::Decision::Approve, "agreed"))
            .await
            .expect("countersigned");
    }

    // Approval (§3.2.3): 5,000,000.00 needs levels 1 and 2; level 2 sends
    // the plan back with required changes.
    let resolved = app.instance(&name).await;
    let levels: Vec<_> = resolved.approval_chain.iter().map(|l| l.level).collect();
    assert_eq!(levels, [1, 2]);
    assert_eq!(resolved.matrix_version, 1);
    let level1 = app.task(&name, "approval", None).await;
    assert_eq!(level1.approval_level, 1);
    approver1
        .complete_task(decide(&level1, pb::Decision::Approve, "within budget"))
        .await
        .expect("level 1");
    let level2 = app.task(&name, "approval", None).await;
    assert_eq!(level2.approval_level, 2);
    let too_junior = approver1
        .complete_task(decide(&level2, pb::Decision::Approve, "ok"))
        .await
        .expect_err("level 1 only");
    assert_eq!(too_junior.code(), Code::PermissionDenied);
    assert!(too_junior.message().contains("approval level 2"));
    let mut send_back = decide(&level2, pb::Decision::SendBack, "cost too high");
    send_back.send_back_to_step = "plan".into();
    send_back.required_changes = vec!["cut the fit-out cost by 10%".into()];
    approver2.complete_task(send_back).await.expect("sent back");
    let plan = app.task(&name, "plan", None).await;
    assert!(
        plan.prior_opinions
            .iter()
            .any(|o| o.contains("required change: cut the fit-out cost by 10%"))
    );
    let mut with_plan = decide(&plan, pb::Decision::Complete, "cost cut");
    with_plan.document = format!("{PLAN}-3");
    drafter
        .complete_task(with_plan)
        .await
        .expect("plan revised");
    for (client, department) in [
        (&mut finance, "finance"),
        (&mut legal, "legal"),
        (&mut it_reviewer, "it"),
    ] {
        let task = app.task(&name, "joint_review", Some(department)).await;
        client
            .complete_task(decide(&task, pb::Decision::Approve, "agreed"))
            .await
            .expect("countersigned");
    }
    let level1 = app.task(&name, "approval", None).await;
    approver1
        .complete_task(decide(&level1, pb::Decision::Approve, "fine"))
        .await
        .expect("level 1");
    let level2 = app.task(&name, "approval", None).await;
    approver2
        .complete_task(decide(&level2, pb::Decision::Approve, "approved"))
        .await
        .expect("level 2");

    // Execution (§3.2.4): the lead waits for the supporting department.
    let lead_task = app.task(&name, "execution", Some("ops")).await;
    let support_task = app.task(&name, "execution", Some("it")).await;
    let early = lead
        .complete_task(decide(&lead_task, pb::Decision::Complete, "done"))
        .await
        .expect_err("supporting open");
    assert_eq!(early.code(), Code::FailedPrecondition);
    assert!(
        early.message().contains("supporting tasks are open (it)"),
        "{early:?}"
    );
    let with_item = lead
        .add_coordination_item(pb::AddCoordinationItemRequest {
            name: name.clone(),
            problem: "network line delayed".into(),
            responsible_department: "it".into(),
            ..Default::default()
        })
        .await
        .expect("item")
        .into_inner();
    let item = with_item.coordination_items[0].id.clone();
    head.add_supervision_record(pb::AddSupervisionRecordRequest {
        name: name.clone(),
        findings: "on schedule".into(),
        ..Default::default()
    })
    .await
    .expect("supervised");
    support
        .complete_task(decide(&support_task, pb::Decision::Complete, "network up"))
        .await
        .expect("support done");
    let resolved_item = support
        .resolve_coordination_item(pb::ResolveCoordinationItemRequest {
            name: name.clone(),
            item_id: item,
            resolution: "second carrier".into(),
            ..Default::default()
        })
        .await
        .expect("resolved")
        .into_inner();
    assert!(resolved_item.coordination_items[0].resolved);
    lead.complete_task(decide(
        &lead_task,
        pb::Decision::Complete,
        "branch fitted out",
    ))
    .await
    .expect("execution done");

    // Acceptance (§3.2.5): a failure opens rectification with a deadline.
    let acceptance = app.task(&name, "acceptance", Some("sales")).await;
    let deadline = time::now() + 7 * 86_400_000;
    let mut fail = decide(&acceptance, pb::Decision::Fail, "signage missing");
    fail.rectification_requirements = vec!["install the signage".into()];
    fail.rectification_deadline = Some(time::to_timestamp(deadline));
    acceptor.complete_task(fail).await.expect("failed");
    let rectification = app.task(&name, "rectification", Some("ops")).await;
    assert_eq!(rectification.requirements, ["install the signage"]);
    assert_eq!(rectification.due_time, Some(time::to_timestamp(deadline)));
    lead.complete_task(decide(
        &rectification,
        pb::Decision::Complete,
        "signage installed",
    ))
    .await
    .expect("rectified");
    let acceptance = app.task(&name, "acceptance", Some("sales")).await;
    let mut pass = decide(&acceptance, pb::Decision::Pass, "all goals met");
    pass.document = "documents/acceptance-report".into();
    let passed = acceptor
        .complete_task(pass)
        .await
        .expect("passed")
        .into_inner();
    let twice = acceptor
        .complete_task(decide(&passed, pb::Decision::Pass, "again"))
        .await
        .expect_err("twice");
    assert_eq!(twice.code(), Code::FailedPrecondition);

    let done = app.instance(&name).await;
    assert_eq!(done.status(), pb::InstanceStatus::Completed);
    assert_eq!(done.plan_document, format!("{PLAN}-3"));
    assert_eq!(done.acceptance_report, "documents/acceptance-report");
    assert_eq!(done.acceptance_signatures[0].signer, "acc");
    assert_eq!(done.supervision_records[0].findings, "on schedule");
    assert_eq!(done.form.expect("form").goals, "Open by Q3");
    assert!(done.current_steps.is_empty());

    // The whole history, streamed.
    let history: Vec<pb::HistoryEntry> = app
        .client(Role::Auditor)
        .watch_instance(pb::WatchInstanceRequest {
            name: name.clone(),
            after_sequence: 0,
        })
        .await
        .expect("watch")
        .into_inner()
        .map(|e| e.expect("an entry"))
        .collect()
        .await;
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions.first(), Some(&"started"));
    assert_eq!(actions.last(), Some(&"completed"));
    assert_eq!(actions.iter().filter(|a| **a == "sent_back").count(), 3);
    assert_eq!(
        actions.iter().filter(|a| **a == "rectified").count(),
        1,
        "back to acceptance once"
    );
    assert!(actions.contains(&"participants_changed"));
    assert!(actions.contains(&"supervised"));
    let approvals: Vec<_> = history
        .iter()
        .filter(|e| e.step == "approval" && e.action == "task_completed")
        .map(|e| {
            (
                e.actor
                    .as_ref()
                    .map(|a| a.subject.clone())
                    .unwrap_or_default(),
                e.decision(),
            )
        })
        .collect();
    assert_eq!(
        approvals,
        [
            ("dh".to_owned(), pb::Decision::Approve),
            ("vp".to_owned(), pb::Decision::SendBack),
            ("dh".to_owned(), pb::Decision::Approve),
            ("vp".to_owned(), pb::Decision::Approve),
        ]
    );
    assert!(
        history
            .windows(2)
            .all(|w| w[0].sequence + 1 == w[1].sequence)
    );
}

async fn starting_twice_with_one_business_key_makes_one_instance(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let start = pb::StartInstanceRequest {
        process_key: "standard".into(),
        business_key: "applications/42".into(),
        business_type: "project".into(),
        title: "t".into(),
        ..Default::default()
    };
    let mut head = app.person("li", "sales", &[Role::DepartmentHead], "", 0);

    let first = head
        .start_instance(start.clone())
        .await
        .expect("first")
        .into_inner();
    let second = head
        .start_instance(start)
        .await
        .expect("second")
        .into_inner();

    assert_eq!(first.name, second.name);
    let all = head
        .list_instances(pb::ListInstancesRequest {
            business_key: "applications/42".into(),
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(all.instances.len(), 1);
    assert_eq!(app.open_tasks(&first.name, "initiation").await.len(), 1);
}

async fn cancelling_an_instance_withdraws_its_open_tasks(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let mut head = app.person("li", "sales", &[Role::DepartmentHead], "", 0);
    let instance = head
        .start_instance(pb::StartInstanceRequest {
            process_key: "standard".into(),
            business_key: "b-1".into(),
            business_type: "project".into(),
            title: "t".into(),
            ..Default::default()
        })
        .await
        .expect("started")
        .into_inner();
    let task = app.task(&instance.name, "initiation", None).await;
    let other_head = app
        .person("zhou", "legal", &[Role::DepartmentHead], "", 0)
        .cancel_instance(pb::CancelInstanceRequest {
            name: instance.name.clone(),
            reason: "not yours".into(),
            ..Default::default()
        })
        .await
        .expect_err("another department's head");

    let cancelled = head
        .cancel_instance(pb::CancelInstanceRequest {
            name: instance.name.clone(),
            etag: instance.etag.clone(),
            reason: "customer withdrew".into(),
            ..Default::default()
        })
        .await
        .expect("cancelled")
        .into_inner();
    let late = app
        .person("wang", "sales", &[Role::Executor], "", 0)
        .complete_task(decide(&task, pb::Decision::Complete, ""))
        .await
        .expect_err("withdrawn");

    let list = |filter: pb::ListInstancesRequest| {
        let mut head = head.clone();
        async move {
            head.list_instances(filter)
                .await
                .expect("listed")
                .into_inner()
                .instances
                .len()
        }
    };
    let by_status = list(pb::ListInstancesRequest {
        status: pb::InstanceStatus::Cancelled as i32,
        ..Default::default()
    })
    .await;
    let running = list(pb::ListInstancesRequest {
        status: pb::InstanceStatus::Running as i32,
        ..Default::default()
    })
    .await;
    let by_process = list(pb::ListInstancesRequest {
        process_key: "standard".into(),
        department: "sales".into(),
        ..Default::default()
    })
    .await;
    let other_department = list(pb::ListInstancesRequest {
        department: "legal".into(),
        ..Default::default()
    })
    .await;

    assert_eq!(
        (by_status, running, by_process, other_department),
        (1, 0, 1, 0)
    );
    assert_eq!(other_head.code(), Code::PermissionDenied);
    assert_eq!(cancelled.status(), pb::InstanceStatus::Cancelled);
    assert_eq!(cancelled.cancel_reason, "customer withdrew");
    assert_eq!(late.code(), Code::FailedPrecondition);
    assert!(late.message().contains("CANCELLED"));
}
