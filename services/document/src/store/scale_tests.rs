//! Lists and searches at 10⁶ documents, on both backends: every shape of
//! `ListDocuments` is read through an index in the order it is paged in —
//! no scan of the documents table, no sort of what matched — checked on
//! the plans the databases choose for the statements the service runs.
//! Their times are printed, not asserted (speed is the bench's business).
//!
//! Ignored unless asked for: filling 10⁶ documents takes a while.

use std::time::Instant;

use procedo_platform::db::{Backend, Database};
use procedo_platform::identity::{Actor, Clearance, Role};
use procedo_testkit::{TestDatabase, TestService};
use sqlx::Row as _;

use procedo_platform::query::{Bind, bind_all};

use super::documents::{DocumentFilter, list_documents, list_statement};
use crate::domain::document::Status;

const DOCUMENTS: i64 = 1_000_000;

/// The id of document 500 000.
const MIDDLE: &str = "0192cc09-1400-7000-8000-00000007a120";

/// The statement that fills the documents table with `DOCUMENTS` rows
/// from the numbers table `scale_n`: 20 categories, 50 departments, 80 %
/// internal, 10 % public, 9 % confidential, 1 % secret, one minute apart.
fn fill(backend: Backend) -> Vec<String> {
    // Ids as the service makes them: the registration time first (UUIDv7
    // text starts with it in hex), so they sort by it.
    let id = match backend {
        Backend::Sqlite => {
            "printf('%08x-%04x-7000-8000-%012x', (1700000000000 + i * 60000) >> 16, \
             (1700000000000 + i * 60000) & 65535, i)"
        }
        Backend::Postgres => {
            "lpad(to_hex((1700000000000 + i * 60000) >> 16), 8, '0') || '-' || \
             lpad(to_hex((1700000000000 + i * 60000) & 65535), 4, '0') || '-7000-8000-' || \
             lpad(to_hex(i), 12, '0')"
        }
    };
    let numbers = match backend {
        Backend::Sqlite => format!(
            "CREATE TABLE scale_n AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL \
             SELECT i + 1 FROM n WHERE i < {DOCUMENTS}) SELECT i FROM n"
        ),
        Backend::Postgres => {
            format!(
                "CREATE TABLE scale_n AS SELECT i FROM generate_series(1::bigint, {DOCUMENTS}) AS g(i)"
            )
        }
    };
    vec![
        numbers,
        format!(
            "INSERT INTO documents (id, number, title, category, owning_department, \
             confidentiality, tags, related, grantees, author, status, void_reason, \
             current_version, created_at, updated_at, version) \
             SELECT {id}, 'N-' || {id}, 'title ' || i, 'c' || (i % 20), 'dep' || (i % 50), \
             CASE WHEN i % 100 = 5 THEN 3 WHEN i % 10 = 5 THEN 2 WHEN i % 10 = 1 THEN 0 ELSE 1 END, \
             '[]', '[]', '[]', $1, \
             CASE i % 4 WHEN 0 THEN 'DRAFT' WHEN 1 THEN 'APPROVED' WHEN 2 THEN 'SIGNED' ELSE 'ARCHIVED' END, \
             '', 1, 1700000000000 + i * 60000, 1700000000000 + i * 60000, 1 FROM scale_n"
        ),
        format!(
            "INSERT INTO document_words (word, document_id) \
             SELECT 'w' || (i % 5000), {id} FROM scale_n \
             UNION SELECT 'v' || ((i * 7) % 5003), {id} FROM scale_n \
             UNION SELECT 'x' || (i % 97), {id} FROM scale_n"
        ),
        format!(
            "INSERT INTO document_tags (tag, document_id) SELECT 't' || (i % 200), {id} FROM scale_n"
        ),
        format!(
            "INSERT INTO document_related (resource, document_id) \
             SELECT 'applications/a' || (i / 3), {id} FROM scale_n"
        ),
        format!(
            "INSERT INTO document_grantees (document_id, subject) \
             SELECT {id}, 'u' || (i % 1000) FROM scale_n WHERE i % 100 = 0"
        ),
        "DROP TABLE scale_n".into(),
        "ANALYZE".into(),
    ]
}

fn viewer() -> Actor {
    Actor {
        subject: "u7".into(),
        name: "Wu".into(),
        title: String::new(),
        department: "dep7".into(),
        roles: vec![Role::Executor],
        approval_level: 0,
        clearance: Clearance::Internal,
    }
}

/// Each shape of list, with the index it must be read through. Number
/// searches read the number index and order what they matched: an exact
/// number names one document at most, and a prefix is how a person looks
/// one up (`HT-2026-0001`), so the matches are few.
fn shapes() -> Vec<(
    &'static str,
    DocumentFilter,
    Option<&'static str>,
    &'static str,
)> {
    let f = DocumentFilter::default;
    vec![
        ("everything", f(), None, "documents"),
        ("a page further on", f(), Some(MIDDLE), "documents"),
        (
            "a category",
            DocumentFilter {
                category: Some("c3".into()),
                ..f()
            },
            None,
            "documents_category",
        ),
        (
            "a department",
            DocumentFilter {
                owning_department: Some("dep7".into()),
                ..f()
            },
            None,
            "documents_department",
        ),
        (
            "a status",
            DocumentFilter {
                status: Some(Status::Signed),
                ..f()
            },
            None,
            "documents_status",
        ),
        (
            "a tag",
            DocumentFilter {
                tag: Some("t42".into()),
                ..f()
            },
            None,
            "document_tags",
        ),
        (
            "a title word",
            DocumentFilter {
                words: vec!["w1234".into()],
                ..f()
            },
            None,
            "document_words",
        ),
        (
            "two title words",
            DocumentFilter {
                words: vec!["w1234".into(), "x21".into()],
                ..f()
            },
            None,
            "document_words",
        ),
        (
            "a related resource",
            DocumentFilter {
                related: Some("applications/a4242".into()),
                ..f()
            },
            None,
            "document_related",
        ),
        (
            "an exact number",
            DocumentFilter {
                number: Some(("N-0191bd1a-8ec0-7000-8000-000000067932".into(), true)),
                ..f()
            },
            None,
            "number",
        ),
        (
            "a number prefix",
            DocumentFilter {
                number: Some(("N-0191bd".into(), false)),
                ..f()
            },
            None,
            "number",
        ),
        (
            "a week of registrations",
            DocumentFilter {
                registered_from: Some(1_700_000_000_000 + 300_000 * 60_000),
                registered_before: Some(1_700_000_000_000 + 310_080 * 60_000),
                ..f()
            },
            None,
            "documents",
        ),
    ]
}

/// The plan's lines for `sql` with `binds`.
async fn plan(db: &Database, sql: &str, binds: Vec<Bind>) -> Vec<String> {
    let explain = match db.backend() {
        Backend::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
        Backend::Postgres => format!("EXPLAIN {sql}"),
    };
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(explain)), binds)
        .fetch_all(db.reader())
        .await
        .expect("explained");
    rows.iter()
        .map(|row| {
            let column = match db.backend() {
                Backend::Sqlite => 3,
                Backend::Postgres => 0,
            };
            row.try_get::<String, _>(column).expect("a plan line")
        })
        .collect()
}

/// What is wrong with `plan` for a list that must go through `index`.
fn plan_problems(backend: Backend, plan: &[String], index: &str) -> Vec<String> {
    let text = plan.join("\n");
    let mut problems = Vec::new();
    let sorted_is_fine = index == "number";
    match backend {
        Backend::Sqlite => {
            if plan.iter().any(|l| l.trim() == "SCAN d") {
                problems.push("scans the documents table".to_owned());
            }
            if text.contains("TEMP B-TREE FOR ORDER BY") && !sorted_is_fine {
                problems.push("sorts what matched".to_owned());
            }
        }
        Backend::Postgres => {
            if text.contains("Seq Scan on documents") {
                problems.push("scans the documents table".to_owned());
            }
            let sorts = plan.iter().any(|l| {
                l.trim_start()
                    .trim_start_matches("->  ")
                    .starts_with("Sort")
            });
            if sorts && !sorted_is_fine {
                problems.push("sorts what matched".to_owned());
            }
        }
    }
    if !text.contains(index) {
        problems.push(format!("does not use {index}"));
    }
    problems
}

async fn lists_read_through_indexes_at_a_million_documents(backend: Backend) {
    let database = TestDatabase::new(backend, "document");
    let service = TestService::spawn::<crate::DocumentService>(&database, |_| {}).await;
    let db = &service.db;
    let started = Instant::now();
    let author = procedo_platform::rows::encode_actor(&Actor::system());
    let mut tx = db.begin().await.expect("a transaction");
    for statement in fill(backend) {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(statement.clone()));
        if statement.contains("$1") {
            query = query.bind(author.clone());
        }
        query
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    tx.commit().await.expect("committed");
    println!(
        "{backend:?}: {DOCUMENTS} documents filled in {:?}",
        started.elapsed()
    );

    let viewer = viewer();
    let mut wrong = Vec::new();
    for (shape, filter, after, index) in shapes() {
        let (sql, binds) = list_statement(backend, &viewer, &filter, after, 51);
        let lines = plan(db, &sql, binds).await;
        let problems = plan_problems(backend, &lines, index);
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..5 {
            let at = Instant::now();
            found = list_documents(db, &viewer, &filter, after, 51)
                .await
                .expect("listed")
                .len();
            times.push(at.elapsed());
        }
        times.sort();
        println!("{backend:?} {shape}: {found} found, median {:?}", times[2]);
        if !problems.is_empty() {
            wrong.push(format!(
                "{shape}: {}\n{}",
                problems.join(", "),
                lines.join("\n")
            ));
        }
        assert!(found > 0, "{shape}: the data has documents for every shape");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale: fills 10⁶ documents; run ignored tests"]
async fn sqlite_lists_read_through_indexes_at_a_million_documents() {
    lists_read_through_indexes_at_a_million_documents(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale: fills 10⁶ documents on PostgreSQL; set PROCEDO_TEST_POSTGRES_URL and run ignored tests"]
async fn postgres_lists_read_through_indexes_at_a_million_documents() {
    lists_read_through_indexes_at_a_million_documents(Backend::Postgres).await;
}
