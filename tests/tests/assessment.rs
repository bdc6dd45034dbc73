//! Assessment across services (§6.2): real work through workflow (tasks on
//! time and late, a review sent back, an acceptance failed and passed after
//! rectification) and intake (inquiries answered and closed with the
//! customer's satisfaction) reaches compliance, and a computed period
//! matches the values worked out by hand, each traced to its facts.

use std::time::Duration;

use procedo_platform::identity::Role;
use procedo_proto::compliance as pb;
use procedo_proto::intake as intake_pb;
use procedo_proto::workflow as wf_pb;
use procedo_testkit::{Backend, backend_tests};
use procedo_tests::{Cluster, WorkflowClient, eventually};

backend_tests!(indicators_computed_from_real_work_match_the_hand_computed_values);

/// The step tasks are due three seconds after they open: done at once they
/// are on time; the late one waits past it.
const LIMIT_SECONDS: i64 = 3;

fn step(id: &str, kind: wf_pb::StepKind, role: &str, seconds: i64) -> wf_pb::Step {
    wf_pb::Step {
        id: id.into(),
        name: id.into(),
        kind: kind as i32,
        owner: Some(wf_pb::Owner {
            role: role.into(),
            scope: wf_pb::DepartmentScope::Initiator as i32,
            ..Default::default()
        }),
        content: format!("Do the {id}"),
        standard: vec!["done properly".into()],
        time_limit: Some(prost_types::Duration { seconds, nanos: 0 }),
        ..Default::default()
    }
}

fn transition(
    from: &str,
    decision: wf_pb::Decision,
    to: &str,
    kind: wf_pb::TransitionKind,
) -> wf_pb::Transition {
    wf_pb::Transition {
        from_step: from.into(),
        decision: decision as i32,
        to_step: to.into(),
        kind: kind as i32,
    }
}

async fn deploy(cluster: &Cluster) {
    use wf_pb::{Decision as D, StepKind as K, TransitionKind as T};
    cluster
        .workflow(cluster.admin())
        .await
        .deploy_process_definition(wf_pb::DeployProcessDefinitionRequest {
            request_id: String::new(),
            definition: Some(wf_pb::ProcessDefinition {
                key: "check".into(),
                display_name: "A checked piece of work".into(),
                start_step: "work".into(),
                steps: vec![
                    step("work", K::Task, "executor", LIMIT_SECONDS),
                    step("review", K::Review, "department_head", 3600),
                    step("accept", K::Acceptance, "acceptor", 3600),
                    step("fix", K::Rectification, "executor", 3600),
                ],
                transitions: vec![
                    transition("work", D::Complete, "review", T::Forward),
                    transition("review", D::Approve, "accept", T::Forward),
                    transition("review", D::Reject, "work", T::SendBack),
                    transition("accept", D::Pass, "", T::Forward),
                    transition("accept", D::Fail, "fix", T::Forward),
                    transition("fix", D::Complete, "accept", T::Rectification),
                ],
                ..Default::default()
            }),
        })
        .await
        .expect("deployed");
}

/// Completes `instance`'s open task of `step` as `who` with `decision`.
async fn complete(who: &mut WorkflowClient, instance: &str, step: &str, decision: wf_pb::Decision) {
    let task = eventually(&format!("the {step} task opens"), || {
        let mut who = who.clone();
        async move {
            who.list_tasks(wf_pb::ListTasksRequest {
                instance: instance.to_owned(),
                status: wf_pb::TaskStatus::Open as i32,
                ..Default::default()
            })
            .await
            .ok()?
            .into_inner()
            .tasks
            .into_iter()
            .find(|t| t.step == step)
        }
    })
    .await;
    let mut request = wf_pb::CompleteTaskRequest {
        name: task.name.clone(),
        decision: decision as i32,
        opinion: "as seen".into(),
        ..Default::default()
    };
    if decision == wf_pb::Decision::Fail {
        request.rectification_requirements = vec!["fix the label".into()];
        request.rectification_limit = Some(procedo_proto::common::TimeLimit {
            kind: Some(procedo_proto::common::time_limit::Kind::Elapsed(
                prost_types::Duration {
                    seconds: 3600,
                    nanos: 0,
                },
            )),
        });
    }
    who.complete_task(request)
        .await
        .unwrap_or_else(|e| panic!("{step} {decision:?}: {e}"));
}

async fn indicators_computed_from_real_work_match_the_hand_computed_values(backend: Backend) {
    use wf_pb::Decision as D;
    let cluster = Cluster::start(backend).await;
    deploy(&cluster).await;
    let token = |subject: &str, role: Role| cluster.tokens.token_for(subject, "sales", &[role]);
    let mut hank = cluster.workflow(token("hank", Role::DepartmentHead)).await;
    let mut sam = cluster.workflow(token("sam", Role::Executor)).await;
    let mut ace = cluster.workflow(token("ace", Role::Acceptor)).await;
    let mut start = async |key: &str| {
        hank.start_instance(wf_pb::StartInstanceRequest {
            process_key: "check".into(),
            business_key: key.into(),
            business_type: "check".into(),
            title: key.into(),
            initiator_department: "sales".into(),
            ..Default::default()
        })
        .await
        .expect("started")
        .into_inner()
        .name
    };
    let smooth = start("smooth").await;
    let rough = start("rough").await;

    // Smooth: three tasks, all on time, review and acceptance passed first.
    complete(&mut sam, &smooth, "work", D::Complete).await;
    complete(&mut hank, &smooth, "review", D::Approve).await;
    complete(&mut ace, &smooth, "accept", D::Pass).await;
    // Rough: the work is late, the review sends it back, the redone work is
    // on time, the acceptance fails, the fix is done and it passes.
    tokio::time::sleep(Duration::from_secs(LIMIT_SECONDS as u64 + 1)).await;
    complete(&mut sam, &rough, "work", D::Complete).await;
    complete(&mut hank, &rough, "review", D::Reject).await;
    complete(&mut sam, &rough, "work", D::Complete).await;
    complete(&mut hank, &rough, "review", D::Approve).await;
    complete(&mut ace, &rough, "accept", D::Fail).await;
    complete(&mut sam, &rough, "fix", D::Complete).await;
    complete(&mut ace, &rough, "accept", D::Pass).await;

    // Two inquiries answered at once and closed: satisfied 4 and 2.
    let mut cleo = cluster.intake(token("cleo", Role::IntakeClerk));
    for satisfaction in [4, 2] {
        let q = cleo
            .create_inquiry(intake_pb::CreateInquiryRequest {
                channel: intake_pb::Channel::Phone as i32,
                customer: Some(intake_pb::Customer {
                    name: "Li Wei".into(),
                    phone: "13800138000".into(),
                    email: String::new(),
                }),
                subject: "Opening hours".into(),
                text: "When are you open?".into(),
                ..Default::default()
            })
            .await
            .expect("an inquiry")
            .into_inner();
        let q = cleo
            .respond_to_inquiry(intake_pb::RespondToInquiryRequest {
                name: q.name.clone(),
                etag: q.etag.clone(),
                answer: "Weekdays".into(),
                ..Default::default()
            })
            .await
            .expect("answered")
            .into_inner();
        let q = cleo
            .resolve_inquiry(intake_pb::ResolveInquiryRequest {
                name: q.name.clone(),
                etag: q.etag.clone(),
                resolution: "Told".into(),
                ..Default::default()
            })
            .await
            .expect("resolved")
            .into_inner();
        cleo.close_inquiry(intake_pb::CloseInquiryRequest {
            name: q.name.clone(),
            etag: q.etag.clone(),
            satisfaction,
            ..Default::default()
        })
        .await
        .expect("closed");
    }

    let mut admin = cluster.assessment(cluster.admin()).await;
    let metric = |code: &str, metric: pb::Metric, target: f64| pb::IndicatorSpec {
        code: code.into(),
        name: code.into(),
        group: pb::IndicatorGroup::Quality as i32,
        weight: 1.0,
        target,
        direction: pb::Direction::HigherIsBetter as i32,
        metric: metric as i32,
        manual: false,
    };
    let scheme = admin
        .create_scheme(pb::CreateSchemeRequest {
            title: "Sales, monthly".into(),
            cycle: pb::Recurrence::Monthly as i32,
            indicators: vec![
                metric("on_time", pb::Metric::TasksOnTime, 0.9),
                metric("review", pb::Metric::ReviewFirstPass, 1.0),
                metric("acceptance", pb::Metric::AcceptanceFirstPass, 1.0),
                metric("inquiries", pb::Metric::InquiriesOnTime, 1.0),
                metric("satisfaction", pb::Metric::CustomerSatisfaction, 4.0),
            ],
            ..Default::default()
        })
        .await
        .expect("a scheme")
        .into_inner();
    let mut auditor = cluster
        .assessment(cluster.tokens.token(Role::Auditor))
        .await;
    let now = Some(procedo_platform::time::to_timestamp(
        procedo_platform::time::now(),
    ));
    // The ten tasks and two inquiries reach compliance through the relays.
    let (period, scores) = eventually("every fact arrives", || {
        let mut auditor = auditor.clone();
        let scheme = scheme.name.clone();
        async move {
            let period = auditor
                .compute_period(pb::ComputePeriodRequest {
                    scheme,
                    period_time: now,
                    ..Default::default()
                })
                .await
                .ok()?
                .into_inner();
            let scores = auditor
                .list_scores(pb::ListScoresRequest {
                    period: period.name.clone(),
                    page_size: 200,
                    ..Default::default()
                })
                .await
                .ok()?
                .into_inner()
                .scores;
            let count = |subject: &str, indicator: &str| {
                scores
                    .iter()
                    .find(|s| s.subject == subject && s.indicator == indicator)
                    .map_or(0, |s| s.fact_count)
            };
            (count("sales", "on_time") == 10 && count("cleo", "satisfaction") == 2)
                .then_some((period, scores))
        }
    })
    .await;
    let figure = |kind: pb::SubjectKind, subject: &str, indicator: &str| {
        scores
            .iter()
            .find(|s| {
                s.subject_kind == kind as i32 && s.subject == subject && s.indicator == indicator
            })
            .map(|s| (s.value, s.fact_count, s.score))
    };
    use pb::SubjectKind::{Department as DEPT, Person as PERSON};
    // Nine of sales' ten tasks on time: 0.9 of a 0.9 target.
    assert_eq!(
        figure(DEPT, "sales", "on_time"),
        Some((Some(0.9), 10, Some(100.0)))
    );
    // Sam did four (the late work among them), hank three, ace three.
    assert_eq!(
        figure(PERSON, "sam", "on_time"),
        Some((Some(0.75), 4, Some(83.33)))
    );
    assert_eq!(
        figure(PERSON, "hank", "on_time"),
        Some((Some(1.0), 3, Some(100.0)))
    );
    // First rounds only: smooth's review passed, rough's was sent back; the
    // same for acceptance.
    assert_eq!(
        figure(DEPT, "sales", "review"),
        Some((Some(0.5), 2, Some(50.0)))
    );
    assert_eq!(
        figure(DEPT, "sales", "acceptance"),
        Some((Some(0.5), 2, Some(50.0)))
    );
    assert_eq!(
        figure(PERSON, "cleo", "inquiries"),
        Some((Some(1.0), 2, Some(100.0)))
    );
    assert_eq!(
        figure(DEPT, "sales", "satisfaction"),
        Some((Some(3.0), 2, Some(75.0)))
    );

    // The drill-down names the ten tasks of the two instances.
    let facts = auditor
        .list_score_facts(pb::ListScoreFactsRequest {
            period: period.name.clone(),
            indicator: "on_time".into(),
            subject_kind: DEPT as i32,
            subject: "sales".into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("facts")
        .into_inner()
        .facts;
    assert_eq!(facts.len(), 10);
    assert!(
        facts
            .iter()
            .all(|f| f.kind == "task_completed" && f.resource.starts_with("tasks/"))
    );
    let late: Vec<&pb::Fact> = facts
        .iter()
        .filter(|f| {
            f.occur_time.as_ref().map(|t| t.seconds) > f.due_time.as_ref().map(|t| t.seconds)
        })
        .collect();
    assert_eq!(late.len(), 1, "the rough work");
    assert_eq!(late[0].person, "sam");
}
