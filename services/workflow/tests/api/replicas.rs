//! Replicas that start together on a fresh database all start: seeding the
//! built-in standard process is idempotent under the race.

use futures::future::join_all;
use procedo_testkit::{Backend, TestDatabase, TestService, backend_tests};
use procedo_workflow::Workflow;

backend_tests!(replicas_starting_together_on_a_fresh_database_all_start);

async fn replicas_starting_together_on_a_fresh_database_all_start(backend: Backend) {
    for _ in 0..12 {
        let database = TestDatabase::new(backend, "workflow");
        let replicas =
            join_all((0..3).map(|_| TestService::spawn::<Workflow>(&database, |_| {}))).await;
        for mut replica in replicas {
            replica.stop().await;
        }
    }
}
