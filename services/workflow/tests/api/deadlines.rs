use std::time::Duration;

use procedo_platform::identity::Role;
use procedo_platform::outbox;
use procedo_platform::paging::Page;
use procedo_proto::common;
use procedo_proto::workflow as pb;
use procedo_testkit::calendar::{calendar_file, today};
use procedo_testkit::{Backend, backend_tests};

use crate::helpers::{TestWorkflow, small_definition};

backend_tests!(
    an_overdue_task_is_escalated_once_to_its_department_head,
    tasks_that_fell_due_while_no_timer_ran_are_escalated_once_by_the_replicas_that_start,
    a_working_hours_limit_skips_the_night_and_the_weekend,
);

async fn a_working_hours_limit_skips_the_night_and_the_weekend(backend: Backend) {
    use chrono::Datelike as _;
    // Days off from yesterday to the Thursday before a Friday at least two
    // days away: whenever the test runs, the clock starts that Friday at
    // 09:00. Ten working hours: eight on Friday, then the night and the
    // weekend pass, and two more on Monday → Monday 11:00.
    let today = today();
    let friday = (2..9)
        .map(|d| today + chrono::Duration::days(d))
        .find(|d| d.weekday() == chrono::Weekday::Fri)
        .expect("a Friday within a week");
    let weekday = "[\"09:00-12:00\", \"13:00-18:00\"]";
    let yaml = format!(
        "time_zone: UTC\nhours:\n  monday: {weekday}\n  tuesday: {weekday}\n  \
         wednesday: {weekday}\n  thursday: {weekday}\n  friday: {weekday}\n\
         holidays:\n  - {{ date: {}, to: {}, name: Days off }}\n",
        today - chrono::Duration::days(1),
        friday - chrono::Duration::days(1),
    );
    let file = calendar_file(&yaml);
    let path = file.path().to_path_buf();
    let app =
        TestWorkflow::spawn_with(backend, move |c| c.company.calendar_file = Some(path)).await;
    let mut definition = small_definition("urgent", crate::helpers::hours(1));
    definition.steps[0].limit = Some(common::TimeLimit {
        kind: Some(common::time_limit::Kind::WorkingTime(
            prost_types::Duration {
                seconds: 10 * 3600,
                nanos: 0,
            },
        )),
    });
    let deployed = app
        .client(Role::Admin)
        .deploy_process_definition(pb::DeployProcessDefinitionRequest {
            request_id: String::new(),
            definition: Some(definition),
        })
        .await
        .expect("deployed")
        .into_inner();
    assert_eq!(deployed.steps[0].time_limit, None, "not elapsed time");
    app.person("li", "sales", &[Role::DepartmentHead], "", 0)
        .start_instance(pb::StartInstanceRequest {
            process_key: "urgent".into(),
            business_key: "po-1".into(),
            business_type: "purchase".into(),
            title: "Laptops".into(),
            ..Default::default()
        })
        .await
        .expect("started");

    let tasks = app
        .person("wang", "sales", &[Role::Executor], "", 0)
        .list_tasks(pb::ListTasksRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .tasks;
    let due = tasks[0].due_time.expect("due");
    let monday = friday + chrono::Duration::days(3);
    let expected = monday.and_hms_opt(11, 0, 0).expect("a time").and_utc();
    assert_eq!(
        chrono::DateTime::from_timestamp(due.seconds, 0).expect("a time"),
        expected
    );
}

async fn an_overdue_task_is_escalated_once_to_its_department_head(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let millisecond = prost_types::Duration {
        seconds: 0,
        nanos: 1_000_000,
    };
    app.client(Role::Admin)
        .deploy_process_definition(pb::DeployProcessDefinitionRequest {
            request_id: String::new(),
            definition: Some(small_definition("urgent", millisecond)),
        })
        .await
        .expect("deployed");
    let instance = app
        .person("li", "sales", &[Role::DepartmentHead], "", 0)
        .start_instance(pb::StartInstanceRequest {
            process_key: "urgent".into(),
            business_key: "u-1".into(),
            business_type: "urgent".into(),
            title: "Now".into(),
            ..Default::default()
        })
        .await
        .expect("started")
        .into_inner();

    let mut head = app.person("li", "sales", &[Role::DepartmentHead], "", 0);
    let mut escalated = Vec::new();
    for _ in 0..100 {
        escalated = head
            .list_tasks(pb::ListTasksRequest {
                department: "sales".into(),
                overdue_only: true,
                ..Default::default()
            })
            .await
            .expect("overdue list")
            .into_inner()
            .tasks;
        if escalated.iter().any(|t| t.escalate_time.is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A replica starting now sweeps at once (stopping it waits for that
    // sweep): it finds nothing left to escalate.
    app.replica().await.stop().await;

    assert_eq!(escalated.len(), 1);
    assert!(escalated[0].overdue);
    assert_eq!(escalated[0].department, "sales");
    let id = instance.name.trim_start_matches("instances/");
    let history = procedo_workflow::store::history_after(&app.db, id, 0, 100)
        .await
        .expect("history");
    let overdue_entries: Vec<_> = history
        .iter()
        .filter(|h| h.action == "task_overdue")
        .collect();
    assert_eq!(overdue_entries.len(), 1);
    assert!(
        overdue_entries[0]
            .detail
            .contains("escalated to the head of sales")
    );
    let events = outbox::list(
        &app.db,
        outbox::AUDIT,
        Some(&escalated[0].name),
        None,
        &Page::rows(10, None),
    )
    .await
    .expect("events");
    let overdue: Vec<_> = events
        .iter()
        .filter(|e| e.event.r#type == "procedo.workflow.v1.task.overdue")
        .collect();
    assert_eq!(overdue.len(), 1, "escalated exactly once");
    let late_instances = head
        .list_instances(pb::ListInstancesRequest {
            overdue_only: true,
            ..Default::default()
        })
        .await
        .expect("overdue instances")
        .into_inner()
        .instances;
    assert_eq!(late_instances.len(), 1);
    assert_eq!(late_instances[0].name, instance.name);
}

async fn tasks_that_fell_due_while_no_timer_ran_are_escalated_once_by_the_replicas_that_start(
    backend: Backend,
) {
    // The service's own timer sleeps an hour: as if it were down.
    let app = TestWorkflow::spawn_with(backend, |c| {
        c.service.deadline_sweep = Duration::from_secs(3600);
    })
    .await;
    let millisecond = prost_types::Duration {
        seconds: 0,
        nanos: 1_000_000,
    };
    app.client(Role::Admin)
        .deploy_process_definition(pb::DeployProcessDefinitionRequest {
            request_id: String::new(),
            definition: Some(small_definition("urgent", millisecond)),
        })
        .await
        .expect("deployed");
    app.person("li", "sales", &[Role::DepartmentHead], "", 0)
        .start_instance(pb::StartInstanceRequest {
            process_key: "urgent".into(),
            business_key: "u-2".into(),
            business_type: "urgent".into(),
            title: "Now".into(),
            ..Default::default()
        })
        .await
        .expect("started");
    // Past the task's one-millisecond limit, by a margin.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let page = Page::rows(10, None);
    let before = outbox::list(&app.db, outbox::AUDIT, None, None, &page)
        .await
        .expect("events");
    assert!(
        before
            .iter()
            .all(|e| e.event.r#type != "procedo.workflow.v1.task.overdue"),
        "no timer has run since the task fell due"
    );

    // Three replicas come up on the same database; each sweeps as it
    // starts, and stopping it waits for that sweep.
    let replicas = futures::future::join_all((0..3).map(|_| app.replica())).await;
    let overdue_events = || async {
        let page = Page::rows(100, None);
        outbox::list(&app.db, outbox::AUDIT, None, None, &page)
            .await
            .expect("events")
            .iter()
            .filter(|e| e.event.r#type == "procedo.workflow.v1.task.overdue")
            .count()
    };
    for mut replica in replicas {
        replica.stop().await;
    }

    assert_eq!(
        overdue_events().await,
        1,
        "the task is escalated exactly once"
    );
}
