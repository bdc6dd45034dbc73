//! Assessment (§6.2): a period's figures computed from what the services
//! reported, checked against values worked out by hand, each traced to its
//! facts; manual scores; a published period frozen; rewards and
//! accountability proposed on a published result and decided by someone
//! else.

use chrono::TimeZone as _;
use procedo_platform::identity::Role;
use procedo_proto::common::{self, Event};
use procedo_proto::compliance as pb;
use procedo_proto::{events, intake, workflow};
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{AssessmentClient, TestCompliance, report};

backend_tests!(
    a_period_is_computed_from_facts_traced_to_them_and_frozen_once_published,
    rewards_and_accountability_follow_published_results_and_are_decided_by_another,
    bad_schemes_and_scores_are_named_and_change_nothing,
);

/// Midnight UTC at the start of `day` November 2026 (October for 0).
fn nov(day: u32) -> i64 {
    let (month, day) = if day == 0 { (10, 15) } else { (11, day) };
    chrono::Utc
        .with_ymd_and_hms(2026, month, day, 0, 0, 0)
        .single()
        .expect("a time")
        .timestamp_millis()
}

fn ts(ms: i64) -> Option<prost_types::Timestamp> {
    Some(procedo_platform::time::to_timestamp(ms))
}

fn by(mut event: Event, subject: &str, department: &str) -> Event {
    event.actor = Some(common::Actor {
        subject: subject.into(),
        name: subject.into(),
        department: department.into(),
        ..Default::default()
    });
    event
}

/// A completed step task: (id, assignee, department, kind, series, visit,
/// decision, due day, done day).
#[allow(clippy::too_many_arguments)]
fn task(
    id: &str,
    assignee: &str,
    department: &str,
    kind: &str,
    instance: &str,
    visit: i64,
    decision: &str,
    due: u32,
    done: u32,
) -> Event {
    report(
        id,
        "procedo.workflow",
        events::workflow::TASK_COMPLETED,
        events::workflow::TASK_COMPLETION,
        &workflow::TaskCompleted {
            task: format!("tasks/{id}"),
            instance: format!("instances/{instance}"),
            step: kind.into(),
            step_name: kind.into(),
            step_kind: kind.into(),
            visit,
            department: department.into(),
            assignee: assignee.into(),
            due_time: ts(nov(due)),
            complete_time: ts(nov(done)),
            decision: decision.into(),
        },
        nov(done),
    )
}

fn closed(id: &str, satisfaction: i32, day: u32) -> Event {
    by(
        report(
            id,
            "procedo.intake",
            events::intake::INQUIRY_CLOSED,
            events::intake::STATUS_CHANGED,
            &intake::StatusChanged {
                resource: format!("inquiries/{id}"),
                to_status: "CLOSED".into(),
                department: "sales".into(),
                satisfaction,
                ..Default::default()
            },
            nov(day),
        ),
        "cleo",
        "sales",
    )
}

/// The month's work, as the services report it.
async fn november(app: &TestCompliance) {
    for event in [
        task(
            "t1",
            "ann",
            "sales",
            "execution",
            "i1",
            1,
            "COMPLETE",
            10,
            9,
        ),
        task(
            "t2",
            "ann",
            "sales",
            "execution",
            "i2",
            1,
            "COMPLETE",
            10,
            12,
        ),
        // i1's review: sent back in its first round, approved in its second.
        task("t3", "bob", "sales", "review", "i1", 3, "SEND_BACK", 20, 5),
        task("t4", "bob", "sales", "review", "i1", 8, "APPROVE", 20, 6),
        // i2's review: approved at once.
        task("t5", "bob", "sales", "review", "i2", 2, "APPROVE", 20, 7),
        task(
            "t6",
            "fay",
            "finance",
            "execution",
            "i3",
            1,
            "COMPLETE",
            20,
            8,
        ),
        // October's: not this period's.
        task("t7", "ann", "sales", "execution", "i4", 1, "COMPLETE", 0, 0),
        closed("q1", 4, 11),
        closed("q2", 5, 12),
    ] {
        assert!(app.deliver(event).await);
    }
}

fn indicator(code: &str, weight: f64, target: f64, metric: pb::Metric) -> pb::IndicatorSpec {
    pb::IndicatorSpec {
        code: code.into(),
        name: code.replace('_', " "),
        group: pb::IndicatorGroup::Efficiency as i32,
        weight,
        target,
        direction: pb::Direction::HigherIsBetter as i32,
        metric: metric as i32,
        manual: false,
    }
}

async fn scheme(app: &TestCompliance) -> pb::AssessmentScheme {
    app.assessment(app.tokens.token(Role::Admin))
        .create_scheme(pb::CreateSchemeRequest {
            title: "Monthly performance".into(),
            cycle: pb::Recurrence::Monthly as i32,
            indicators: vec![
                indicator("on_time", 2.0, 0.9, pb::Metric::TasksOnTime),
                indicator("first_pass", 1.0, 0.8, pb::Metric::ReviewFirstPass),
                indicator("satisfaction", 1.0, 4.5, pb::Metric::CustomerSatisfaction),
                pb::IndicatorSpec {
                    code: "conduct".into(),
                    name: "Conduct".into(),
                    group: pb::IndicatorGroup::Compliance as i32,
                    weight: 1.0,
                    target: 100.0,
                    direction: pb::Direction::HigherIsBetter as i32,
                    metric: 0,
                    manual: true,
                },
            ],
            ..Default::default()
        })
        .await
        .expect("a scheme")
        .into_inner()
}

fn assessor(app: &TestCompliance) -> AssessmentClient {
    app.assessment(
        app.tokens
            .token_for("ann-auditor", "audit", &[Role::Auditor]),
    )
}

async fn compute(
    client: &mut AssessmentClient,
    scheme: &str,
) -> Result<pb::AssessmentPeriod, tonic::Status> {
    client
        .compute_period(pb::ComputePeriodRequest {
            scheme: scheme.into(),
            period_time: ts(nov(15)),
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

/// (kind, subject, indicator) → (value, count, score).
async fn figures(
    client: &mut AssessmentClient,
    period: &str,
) -> std::collections::BTreeMap<(i32, String, String), (Option<f64>, i64, Option<f64>)> {
    let mut out = std::collections::BTreeMap::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_scores(pb::ListScoresRequest {
                period: period.into(),
                page_size: 7,
                page_token: token,
                ..Default::default()
            })
            .await
            .expect("scores")
            .into_inner();
        for s in page.scores {
            out.insert(
                (s.subject_kind, s.subject, s.indicator),
                (s.value, s.fact_count, s.score),
            );
        }
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

const DEPT: i32 = pb::SubjectKind::Department as i32;
const PERSON: i32 = pb::SubjectKind::Person as i32;

async fn a_period_is_computed_from_facts_traced_to_them_and_frozen_once_published(
    backend: Backend,
) {
    let app = TestCompliance::spawn(backend).await;
    november(&app).await;
    let scheme = scheme(&app).await;
    let mut ann = assessor(&app);
    let period = compute(&mut ann, &scheme.name).await.expect("computed");
    assert_eq!(period.period, "2026-11");
    assert_eq!(period.status, pb::PeriodStatus::Draft as i32);
    assert_eq!(
        (period.start_time, period.end_time),
        (
            ts(nov(1)),
            ts(chrono::Utc
                .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
                .single()
                .expect("a time")
                .timestamp_millis())
        )
    );

    let f = figures(&mut ann, &period.name).await;
    let get = |kind: i32, subject: &str, indicator: &str| {
        f.get(&(kind, subject.to_owned(), indicator.to_owned()))
            .copied()
    };
    // Sales: four of its five November tasks on time → 0.8 of a 0.9 target.
    assert_eq!(
        get(DEPT, "sales", "on_time"),
        Some((Some(0.8), 5, Some(88.89)))
    );
    // i1's review passed only in its second round, i2's in its first.
    assert_eq!(
        get(DEPT, "sales", "first_pass"),
        Some((Some(0.5), 2, Some(62.5)))
    );
    assert_eq!(
        get(DEPT, "sales", "satisfaction"),
        Some((Some(4.5), 2, Some(100.0)))
    );
    assert_eq!(
        get(DEPT, "finance", "on_time"),
        Some((Some(1.0), 1, Some(100.0)))
    );
    assert_eq!(
        get(PERSON, "ann", "on_time"),
        Some((Some(0.5), 2, Some(55.56)))
    );
    assert_eq!(
        get(PERSON, "bob", "on_time"),
        Some((Some(1.0), 3, Some(100.0)))
    );
    assert_eq!(
        get(PERSON, "bob", "first_pass"),
        Some((Some(0.5), 2, Some(62.5)))
    );
    assert_eq!(
        get(PERSON, "cleo", "satisfaction"),
        Some((Some(4.5), 2, Some(100.0)))
    );
    // Totals weigh what each subject has: sales (2×88.89 + 62.5 + 100) / 4.
    assert_eq!(get(DEPT, "sales", "").and_then(|t| t.2), Some(85.07));
    assert_eq!(get(PERSON, "bob", "").and_then(|t| t.2), Some(87.5));
    assert_eq!(get(DEPT, "finance", "").and_then(|t| t.2), Some(100.0));

    // The drill-down lists the facts behind a figure.
    let facts = ann
        .list_score_facts(pb::ListScoreFactsRequest {
            period: period.name.clone(),
            indicator: "on_time".into(),
            subject_kind: PERSON,
            subject: "ann".into(),
            ..Default::default()
        })
        .await
        .expect("facts")
        .into_inner()
        .facts;
    assert_eq!(
        facts
            .iter()
            .map(|f| (f.event_id.as_str(), f.resource.as_str()))
            .collect::<Vec<_>>(),
        [("t1", "tasks/t1"), ("t2", "tasks/t2")]
    );
    assert_eq!(facts[1].due_time, ts(nov(10)));
    assert_eq!(facts[1].occur_time, ts(nov(12)), "late");

    // An assessor's score counts in the total.
    let manual = ann
        .set_manual_score(pb::SetManualScoreRequest {
            period: period.name.clone(),
            indicator: "conduct".into(),
            subject_kind: DEPT,
            subject: "sales".into(),
            score: 70.0,
            justification: "Two complaints about the front desk".into(),
            ..Default::default()
        })
        .await
        .expect("scored")
        .into_inner();
    assert!(manual.manual && manual.assessor == "ann-auditor");
    let f = figures(&mut ann, &period.name).await;
    assert_eq!(
        f[&(DEPT, "sales".to_owned(), String::new())].2,
        Some(82.06),
        "(177.78 + 62.5 + 100 + 70) / 5"
    );

    // Recomputing keeps it; a fact arriving late is counted on recompute.
    assert!(
        app.deliver(task(
            "t8",
            "ann",
            "sales",
            "execution",
            "i5",
            1,
            "COMPLETE",
            20,
            19
        ))
        .await
    );
    let again = compute(&mut ann, &scheme.name).await.expect("recomputed");
    assert_eq!(again.name, period.name);
    let f = figures(&mut ann, &period.name).await;
    assert_eq!(
        f[&(DEPT, "sales".to_owned(), "on_time".to_owned())],
        (Some(5.0 / 6.0), 6, Some(92.59))
    );
    assert_eq!(
        f[&(DEPT, "sales".to_owned(), "conduct".to_owned())].2,
        Some(70.0)
    );

    // A department head reads their department's figures and its people's.
    let mut fay = app.assessment(
        app.tokens
            .token_for("fay", "finance", &[Role::DepartmentHead]),
    );
    let theirs = figures(&mut fay, &period.name).await;
    assert!(
        theirs
            .keys()
            .all(|(_, subject, _)| subject == "finance" || subject == "fay"),
        "{theirs:?}"
    );
    assert!(!theirs.is_empty());
    let hidden = fay
        .list_score_facts(pb::ListScoreFactsRequest {
            period: period.name.clone(),
            indicator: "on_time".into(),
            subject_kind: PERSON,
            subject: "ann".into(),
            ..Default::default()
        })
        .await
        .expect_err("another department's person");
    assert_eq!(hidden.code(), Code::NotFound);

    // Published, it is frozen.
    let published = ann
        .publish_period(pb::PublishPeriodRequest {
            name: period.name.clone(),
            etag: again.etag.clone(),
            ..Default::default()
        })
        .await
        .expect("published")
        .into_inner();
    assert_eq!(published.status, pb::PeriodStatus::Published as i32);
    assert!(
        app.deliver(task(
            "t9",
            "ann",
            "sales",
            "execution",
            "i6",
            1,
            "COMPLETE",
            20,
            25
        ))
        .await
    );
    let refused = compute(&mut ann, &scheme.name).await.expect_err("frozen");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("published"),
        "{}",
        refused.message()
    );
    let rescore = ann
        .set_manual_score(pb::SetManualScoreRequest {
            period: period.name.clone(),
            indicator: "conduct".into(),
            subject_kind: DEPT,
            subject: "sales".into(),
            score: 90.0,
            justification: "reconsidered".into(),
            ..Default::default()
        })
        .await
        .expect_err("frozen");
    assert_eq!(rescore.code(), Code::FailedPrecondition);
    let frozen = figures(&mut ann, &period.name).await;
    assert_eq!(frozen, f, "nothing moved");
}

async fn rewards_and_accountability_follow_published_results_and_are_decided_by_another(
    backend: Backend,
) {
    let app = TestCompliance::spawn(backend).await;
    november(&app).await;
    let scheme = scheme(&app).await;
    let mut ann = assessor(&app);
    let period = compute(&mut ann, &scheme.name).await.expect("computed");
    let mut hank = app.assessment(
        app.tokens
            .token_for("hank", "sales", &[Role::DepartmentHead]),
    );
    let proposal = |basis: &str| pb::ProposeRecordRequest {
        kind: pb::RecordKind::Commendation as i32,
        subject: "people/bob".into(),
        reason: "Every task on time".into(),
        basis: basis.into(),
        indicator: "on_time".into(),
        ..Default::default()
    };
    let early = hank
        .propose_record(proposal(&period.name))
        .await
        .expect_err("a draft");
    assert_eq!(early.code(), Code::FailedPrecondition);
    let period = ann
        .publish_period(pb::PublishPeriodRequest {
            name: period.name.clone(),
            etag: period.etag.clone(),
            ..Default::default()
        })
        .await
        .expect("published")
        .into_inner();
    let record = hank
        .propose_record(proposal(&period.name))
        .await
        .expect("proposed")
        .into_inner();
    assert_eq!(record.status, pb::RecordStatus::Proposed as i32);
    assert_eq!(
        record.proposed_by.as_ref().map(|a| a.subject.as_str()),
        Some("hank")
    );

    // The admin who proposes one does not decide it.
    let mut admin = app.assessment(app.tokens.token_for("ada", "ops", &[Role::Admin]));
    let own = admin
        .propose_record(pb::ProposeRecordRequest {
            kind: pb::RecordKind::Warning as i32,
            subject: "departments/sales".into(),
            ..proposal(&period.name)
        })
        .await
        .expect("proposed")
        .into_inner();
    let self_decided = admin
        .decide_record(pb::DecideRecordRequest {
            name: own.name.clone(),
            approve: true,
            ..Default::default()
        })
        .await
        .expect_err("their own");
    assert_eq!(self_decided.code(), Code::PermissionDenied);
    let no_reason = admin
        .decide_record(pb::DecideRecordRequest {
            name: record.name.clone(),
            approve: false,
            ..Default::default()
        })
        .await
        .expect_err("a rejection says why");
    assert_eq!(no_reason.code(), Code::InvalidArgument);
    let approved = admin
        .decide_record(pb::DecideRecordRequest {
            name: record.name.clone(),
            approve: true,
            comment: "Well earned".into(),
            ..Default::default()
        })
        .await
        .expect("approved")
        .into_inner();
    assert_eq!(approved.status, pb::RecordStatus::Approved as i32);
    assert_eq!(
        approved.decided_by.as_ref().map(|a| a.subject.as_str()),
        Some("ada")
    );
    let twice = admin
        .decide_record(pb::DecideRecordRequest {
            name: record.name.clone(),
            approve: true,
            ..Default::default()
        })
        .await
        .expect_err("decided");
    assert_eq!(twice.code(), Code::FailedPrecondition);

    // Bob sees his; sales' head sees their own and their department's;
    // auditors see all.
    let mut bob = app.assessment(app.tokens.token_for("bob", "sales", &[Role::Executor]));
    let mine = bob
        .list_records(pb::ListRecordsRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .records;
    assert_eq!(
        mine.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        [record.name.as_str()]
    );
    let theirs = hank
        .list_records(pb::ListRecordsRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .records;
    assert_eq!(
        theirs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        [own.name.as_str()],
        "the department's"
    );
    let all = ann
        .list_records(pb::ListRecordsRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .records;
    assert_eq!(all.len(), 2);
}

async fn bad_schemes_and_scores_are_named_and_change_nothing(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    let mut admin = app.assessment(app.tokens.token(Role::Admin));
    let bad = admin
        .create_scheme(pb::CreateSchemeRequest {
            title: String::new(),
            cycle: pb::Recurrence::OneOff as i32,
            indicators: vec![
                indicator("on_time", 0.0, 90.0, pb::Metric::TasksOnTime),
                indicator("on_time", 1.0, 0.5, pb::Metric::TasksOnTime),
                pb::IndicatorSpec {
                    manual: true,
                    ..indicator("both", 1.0, 1.0, pb::Metric::CustomerSatisfaction)
                },
            ],
            ..Default::default()
        })
        .await
        .expect_err("bad");
    assert_eq!(bad.code(), Code::InvalidArgument);
    for field in ["title", "cycle", "indicators[2].metric"] {
        assert!(bad.message().contains(field), "{field}: {}", bad.message());
    }
    let bad = admin
        .create_scheme(pb::CreateSchemeRequest {
            title: "t".into(),
            cycle: pb::Recurrence::Monthly as i32,
            indicators: vec![
                indicator("on_time", 0.0, 90.0, pb::Metric::TasksOnTime),
                indicator("on_time", 1.0, 0.5, pb::Metric::TasksOnTime),
            ],
            ..Default::default()
        })
        .await
        .expect_err("bad");
    for field in [
        "indicators[0].weight",
        "indicators[0].target",
        "indicators[1].code",
    ] {
        assert!(bad.message().contains(field), "{field}: {}", bad.message());
    }
    let none = admin
        .list_schemes(pb::ListSchemesRequest::default())
        .await
        .expect("listed")
        .into_inner();
    assert!(none.schemes.is_empty());

    november(&app).await;
    let scheme = scheme(&app).await;
    let mut ann = assessor(&app);
    let period = compute(&mut ann, &scheme.name).await.expect("computed");
    let before = figures(&mut ann, &period.name).await;
    let computed = ann
        .set_manual_score(pb::SetManualScoreRequest {
            period: period.name.clone(),
            indicator: "on_time".into(),
            subject_kind: DEPT,
            subject: "sales".into(),
            score: 50.0,
            justification: "j".into(),
            ..Default::default()
        })
        .await
        .expect_err("computed, not manual");
    assert!(
        computed.message().contains("computed from facts"),
        "{}",
        computed.message()
    );
    let out_of_range = ann
        .set_manual_score(pb::SetManualScoreRequest {
            period: period.name.clone(),
            indicator: "conduct".into(),
            subject_kind: 0,
            subject: String::new(),
            score: 101.0,
            ..Default::default()
        })
        .await
        .expect_err("bad");
    for field in ["subject_kind", "subject", "score", "justification"] {
        assert!(
            out_of_range.message().contains(field),
            "{field}: {}",
            out_of_range.message()
        );
    }
    assert_eq!(
        figures(&mut ann, &period.name).await,
        before,
        "nothing changed"
    );
}
