//! Many hands on one instance at once: completions of a joint review's
//! tasks race each other and the deadline sweeps that escalate them, and
//! every call still succeeds with a history in order.

use std::time::Duration;

use futures::future::join_all;
use procedo_platform::identity::Role;
use procedo_platform::mutation::{Commits, Mutations};
use procedo_proto::workflow as pb;
use procedo_testkit::{Backend, backend_tests};
use procedo_workflow::app::App;
use procedo_workflow::store;

use crate::helpers::{TestWorkflow, decide};

backend_tests!(completions_and_deadline_sweeps_racing_on_one_instance_all_succeed_with_one_history,);

const REVIEWERS: usize = 16;
const ROUNDS: usize = 4;

/// request (task) → joint review by many departments, each due while the
/// reviews are being completed.
fn joint_review(key: &str) -> pb::ProcessDefinition {
    let soon = prost_types::Duration {
        seconds: 0,
        nanos: 20_000_000,
    };
    let mut definition = crate::helpers::small_definition(key, soon);
    let review = definition
        .steps
        .iter_mut()
        .find(|s| s.id == "review")
        .expect("a review step");
    review.kind = pb::StepKind::Countersign as i32;
    review.owner = Some(pb::Owner {
        role: "reviewer".into(),
        scope: pb::DepartmentScope::Any as i32,
        department: String::new(),
    });
    review.departments = (0..REVIEWERS).map(|i| format!("dept{i}")).collect();
    definition
}

async fn completions_and_deadline_sweeps_racing_on_one_instance_all_succeed_with_one_history(
    backend: Backend,
) {
    // The test sweeps itself, without pause, while the reviews complete.
    let app = TestWorkflow::spawn_with(backend, |c| {
        c.service.deadline_sweep = Duration::from_secs(3600);
    })
    .await;
    let admin = app.client(Role::Admin);
    admin
        .clone()
        .deploy_process_definition(pb::DeployProcessDefinitionRequest {
            request_id: String::new(),
            definition: Some(joint_review("joint")),
        })
        .await
        .expect("deployed");
    // Sweeps beside the service's own timer, on the same database.
    let sweeper = App::new(
        Mutations::new(app.db.clone(), Commits::default()),
        procedo_platform::calendars::Calendars::seeded(
            procedo_platform::calendar::Calendar::standard(chrono_tz::UTC),
        ),
        procedo_platform::time::Clock::system(),
        None,
    );

    for round in 0..ROUNDS {
        let instance = app
            .person("li", "sales", &[Role::DepartmentHead], "", 0)
            .start_instance(pb::StartInstanceRequest {
                process_key: "joint".into(),
                business_key: format!("joint-{round}"),
                business_type: "joint".into(),
                title: "Many reviewers".into(),
                ..Default::default()
            })
            .await
            .expect("started")
            .into_inner();
        let request = app.task(&instance.name, "request", None).await;
        admin
            .clone()
            .complete_task(decide(&request, pb::Decision::Complete, "ready"))
            .await
            .expect("the request is done");
        let reviews = app.open_tasks(&instance.name, "review").await;
        assert_eq!(reviews.len(), REVIEWERS);

        let completions = join_all(reviews.iter().map(|task| {
            let mut client = admin.clone();
            let request = decide(task, pb::Decision::Approve, "agreed");
            async move { client.complete_task(request).await }
        }));
        let done = std::sync::atomic::AtomicBool::new(false);
        let sweeps = async {
            let mut escalated = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                escalated += sweeper
                    .sweep_deadlines()
                    .await
                    .expect("every sweep succeeds");
            }
            escalated
        };
        let completions = async {
            let completed = completions.await;
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            completed
        };
        let (completed, escalated) = tokio::join!(completions, sweeps);

        for outcome in completed {
            let status = outcome.err().map(|s| (s.code(), s.message().to_owned()));
            assert_eq!(status, None, "every completion succeeds");
        }
        assert!(
            escalated <= REVIEWERS,
            "each task is escalated at most once"
        );
        let id = instance.name.trim_start_matches("instances/");
        let history = store::history_after(&app.db, id, 0, 1_000)
            .await
            .expect("history");
        let positions: Vec<i64> = history.iter().map(|h| h.seq).collect();
        let expected: Vec<i64> = (1..=i64::try_from(history.len()).expect("small")).collect();
        assert_eq!(positions, expected, "one history, numbered without gaps");
        assert_eq!(
            history.iter().filter(|h| h.action == "completed").count(),
            1,
            "the instance ends once"
        );
    }
}
