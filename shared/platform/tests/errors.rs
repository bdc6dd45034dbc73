//! Database failures reach callers classified, provoked for real on both
//! backends: a lost race is ABORTED, a database that cannot be reached or
//! is too busy is UNAVAILABLE, and anything else is a bare INTERNAL.

use std::time::Duration;

use procedo_platform::db::{Backend, Database, Migrations, Script};
use procedo_platform::error::Error;
use procedo_testkit::{TestDatabase, backend_tests};
use sqlx::any::AnyPoolOptions;
use sqlx::{Connection as _, Executor as _};
use tonic::Code;

backend_tests!(
    a_unique_key_taken_by_a_racing_call_is_aborted,
    a_transaction_the_database_gives_up_on_is_aborted,
    a_database_too_busy_to_answer_is_unavailable,
    a_schema_problem_is_internal_and_says_nothing_of_itself,
);

const THINGS: Migrations = Migrations {
    sqlite: &[Script {
        version: 1,
        description: "things",
        sql: "CREATE TABLE things (id TEXT PRIMARY KEY, n BIGINT NOT NULL);",
    }],
    postgres: &[Script {
        version: 1,
        description: "things",
        sql: "CREATE TABLE things (id TEXT PRIMARY KEY, n BIGINT NOT NULL);",
    }],
};

fn code(e: sqlx::Error) -> (Code, String) {
    let status = tonic::Status::from(Error::from(e));
    (status.code(), status.message().to_owned())
}

async fn database(backend: Backend) -> (TestDatabase, Database) {
    let database = TestDatabase::new(backend, "errors");
    let db = Database::connect(database.options(), THINGS)
        .await
        .expect("db");
    (database, db)
}

async fn a_unique_key_taken_by_a_racing_call_is_aborted(backend: Backend) {
    let (_database, db) = database(backend).await;
    let insert = "INSERT INTO things (id, n) VALUES ('a', 1)";
    db.reader().execute(insert).await.expect("first");
    let err = db.reader().execute(insert).await.expect_err("taken");
    assert_eq!(code(err).0, Code::Aborted);
}

async fn a_transaction_the_database_gives_up_on_is_aborted(backend: Backend) {
    let (database, db) = database(backend).await;
    db.reader()
        .execute("INSERT INTO things (id, n) VALUES ('a', 0), ('b', 0)")
        .await
        .expect("rows");
    match backend {
        Backend::Postgres => {
            // Two transactions lock the same rows in opposite orders: the
            // database breaks the deadlock by aborting one.
            let url = &database.options().url;
            let schema = &database.options().schema;
            let connect = || async {
                let mut c = sqlx::AnyConnection::connect(url).await.expect("connect");
                c.execute(sqlx::AssertSqlSafe(format!(
                    "SET search_path TO \"{schema}\""
                )))
                .await
                .expect("schema");
                c
            };
            let (mut one, mut two) = (connect().await, connect().await);
            let mut t1 = one.begin().await.expect("t1");
            let mut t2 = two.begin().await.expect("t2");
            t1.execute("UPDATE things SET n = 1 WHERE id = 'a'")
                .await
                .expect("t1 a");
            t2.execute("UPDATE things SET n = 2 WHERE id = 'b'")
                .await
                .expect("t2 b");
            let (r1, r2) = tokio::join!(
                t1.execute("UPDATE things SET n = 1 WHERE id = 'b'"),
                t2.execute("UPDATE things SET n = 2 WHERE id = 'a'"),
            );
            let err = r1.err().or(r2.err()).expect("one is chosen as the victim");
            assert_eq!(code(err).0, Code::Aborted);
        }
        Backend::Sqlite => {
            // A read transaction that another writer overtook cannot write
            // any more (SQLITE_BUSY_SNAPSHOT).
            let url = &database.options().url;
            let mut reader = sqlx::AnyConnection::connect(url).await.expect("connect");
            reader
                .execute("PRAGMA busy_timeout = 0")
                .await
                .expect("pragma");
            let mut tx = reader.begin().await.expect("begin");
            tx.fetch_all("SELECT n FROM things").await.expect("read");
            db.reader()
                .execute("UPDATE things SET n = 5 WHERE id = 'a'")
                .await
                .expect("another writer");
            let err = tx
                .execute("UPDATE things SET n = 6 WHERE id = 'b'")
                .await
                .expect_err("the snapshot is stale");
            assert_eq!(code(err).0, Code::Aborted);
        }
    }
}

async fn a_database_too_busy_to_answer_is_unavailable(backend: Backend) {
    let (database, _db) = database(backend).await;
    // Every connection of a small pool is in use, and no more come in time.
    let options = database.options();
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(100))
        .connect(&options.url)
        .await
        .expect("pool");
    let _held = pool.acquire().await.expect("the only connection");
    let err = pool.acquire().await.expect_err("none left");
    let (code_, message) = code(err);
    assert_eq!(code_, Code::Unavailable);
    assert!(message.contains("retry later"), "{message}");

    // Nobody listening where the database should be.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let url = match backend {
        Backend::Postgres => format!("postgres://postgres@{closed}/test"),
        Backend::Sqlite => "sqlite:///nonexistent-folder/procedo/x.db".to_owned(),
    };
    let err = AnyPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect(&url)
        .await
        .expect_err("refused");
    let expected = match backend {
        Backend::Postgres => Code::Unavailable,
        // A file that cannot be opened is a setup problem, not an outage.
        Backend::Sqlite => Code::Internal,
    };
    assert_eq!(code(err).0, expected);
}

async fn a_schema_problem_is_internal_and_says_nothing_of_itself(backend: Backend) {
    let (_database, db) = database(backend).await;
    let err = db
        .reader()
        .execute("SELECT secret_column FROM no_such_table")
        .await
        .expect_err("no table");
    let (code_, message) = code(err);
    assert_eq!(code_, Code::Internal);
    assert!(!message.contains("no_such_table"), "{message}");
}
