use std::time::Duration;

use futures::StreamExt as _;
use procedo_platform::identity::Role;
use procedo_proto::workflow as pb;
use procedo_testkit::{Backend, backend_tests};

use crate::helpers::{TestWorkflow, decide, hours, small_definition};

backend_tests!(
    a_watcher_sees_each_change_as_it_happens_and_the_stream_ends_with_the_instance,
    a_watch_still_open_at_shutdown_ends_with_unavailable_without_holding_the_drain,
);

async fn next_action(stream: &mut tonic::Streaming<pb::HistoryEntry>) -> String {
    tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("an entry within five seconds")
        .expect("the stream is open")
        .expect("an entry")
        .action
}

/// A purchase started in sales, watched by an auditor from its start;
/// the first two entries (started, first step entered) already read.
async fn watched_purchase(
    app: &TestWorkflow,
    business_key: &str,
    title: &str,
) -> (pb::Instance, tonic::Streaming<pb::HistoryEntry>) {
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
            business_key: business_key.into(),
            business_type: "purchase".into(),
            title: title.into(),
            ..Default::default()
        })
        .await
        .expect("started")
        .into_inner();
    let mut stream = app
        .client(Role::Auditor)
        .watch_instance(pb::WatchInstanceRequest {
            name: instance.name.clone(),
            after_sequence: 0,
        })
        .await
        .expect("watching")
        .into_inner();
    assert_eq!(next_action(&mut stream).await, "started");
    assert_eq!(next_action(&mut stream).await, "step_entered");
    (instance, stream)
}

async fn a_watcher_sees_each_change_as_it_happens_and_the_stream_ends_with_the_instance(
    backend: Backend,
) {
    let app = TestWorkflow::spawn(backend).await;
    let (instance, mut stream) = watched_purchase(&app, "po-9", "Chairs").await;

    let request = app.task(&instance.name, "request", None).await;
    app.person("wang", "sales", &[Role::Executor], "", 0)
        .complete_task(decide(&request, pb::Decision::Complete, "done"))
        .await
        .expect("completed");
    assert_eq!(next_action(&mut stream).await, "task_completed");
    assert_eq!(next_action(&mut stream).await, "step_entered");

    let review = app.task(&instance.name, "review", None).await;
    app.person("li", "sales", &[Role::DepartmentHead], "", 0)
        .complete_task(decide(&review, pb::Decision::Approve, "fine"))
        .await
        .expect("approved");
    assert_eq!(next_action(&mut stream).await, "task_completed");
    assert_eq!(next_action(&mut stream).await, "completed");
    let end = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("the stream ends");
    assert!(end.is_none(), "nothing after the end: {end:?}");

    let mut late = app
        .client(Role::Auditor)
        .watch_instance(pb::WatchInstanceRequest {
            name: instance.name.clone(),
            after_sequence: 1_000,
        })
        .await
        .expect("watching a finished instance")
        .into_inner();
    let nothing = tokio::time::timeout(Duration::from_secs(5), late.next())
        .await
        .expect("ends at once");
    assert!(nothing.is_none());
}

async fn a_watch_still_open_at_shutdown_ends_with_unavailable_without_holding_the_drain(
    backend: Backend,
) {
    let grace = Duration::from_secs(30);
    let mut app =
        TestWorkflow::spawn_with(backend, |c| c.server.limits.shutdown_grace = grace).await;
    let (_, mut stream) = watched_purchase(&app, "po-10", "Desks").await;

    // The instance waits on its first task: the watch stays open until the
    // server drains, which it must not hold for the grace period.
    let ends = async {
        let mut rest = Vec::new();
        while let Some(item) = stream.next().await {
            rest.push(item);
        }
        rest
    };
    let ((), rest) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(app.server.stop(), ends)
    })
    .await
    .expect("the server stops long before the grace period ends");
    match rest.as_slice() {
        [Err(status)] => {
            assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
            assert!(status.message().contains("call again"), "{status:?}");
        }
        other => panic!("expected one UNAVAILABLE to end the stream, got {other:?}"),
    }
}
