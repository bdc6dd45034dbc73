//! PostgreSQL connections are opened as a latency-bound client needs
//! them: with TCP_NODELAY, so a statement sent in two writes is not held
//! back for the server's delayed ACK (sqlx 0.9.0 leaves it off).

use procedo_platform::db::{self, Database, Migrations};
use procedo_testkit::{Backend, TestDatabase};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set PROCEDO_TEST_POSTGRES_URL and run ignored tests"]
async fn every_postgres_connection_has_tcp_nodelay() {
    let database = TestDatabase::new(Backend::Postgres, "connections");
    let db = Database::connect(
        database.options(),
        Migrations {
            sqlite: &[],
            postgres: &[],
        },
    )
    .await
    .expect("connected");
    let mut ports = Vec::new();
    let mut held = Vec::new();
    // Several at once, so the pools open more than their first.
    for _ in 0..3 {
        let mut reader = db.reader().acquire().await.expect("a reader");
        let mut writer = db.begin().await.expect("a writer");
        for conn in [&mut *reader, &mut *writer] {
            let port: i32 = sqlx::query_scalar("SELECT inet_client_port()")
                .fetch_one(&mut *conn)
                .await
                .expect("the client port");
            ports.push(u16::try_from(port).expect("a port"));
        }
        held.push((reader, writer));
    }
    for port in ports {
        assert_eq!(
            db::no_delay_on_local_port(port),
            Some(true),
            "the connection on local port {port} has TCP_NODELAY"
        );
    }
}
