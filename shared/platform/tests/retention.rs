//! What is past its retention is deleted — delivered events with their
//! attempts, received event ids, request ids — and nothing else: pending
//! and failed events stay whatever their age.

use std::time::Duration;

use procedo_platform::db::{Database, Migrations};
use procedo_platform::retention::{Pruned, Retention, prune};
use procedo_testkit::{Backend, TestDatabase, backend_tests};

backend_tests!(what_is_past_its_retention_is_deleted_and_nothing_else);

const NO_TABLES: Migrations = Migrations {
    sqlite: &[],
    postgres: &[],
};

const DAY: i64 = 86_400_000;
const NOW: i64 = 1_800_000_000_000;

async fn count(db: &Database, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(db.reader())
        .await
        .expect("counted")
}

async fn what_is_past_its_retention_is_deleted_and_nothing_else(backend: Backend) {
    let database = TestDatabase::new(backend, "retention");
    let db = Database::connect(database.options(), NO_TABLES)
        .await
        .expect("db");
    let mut tx = db.begin().await.expect("tx");
    // Events: (id, status, age in days); each with one attempt.
    let events = [
        ("old-delivered", "delivered", 40),
        ("new-delivered", "delivered", 2),
        ("old-pending", "pending", 40),
        ("old-failed", "failed", 40),
    ];
    for (id, status, age) in events {
        sqlx::query(
            "INSERT INTO outbox (id, destination, event_type, subject, payload, status, attempts, \
             next_attempt_at, lease_until, created_at) VALUES ($1, 'peer', 't', 's', $2, $3, 1, 0, 0, $4)",
        )
        .bind(id)
        .bind(Vec::<u8>::new())
        .bind(status)
        .bind(NOW - age * DAY)
        .execute(&mut *tx)
        .await
        .expect("an event");
        sqlx::query(
            "INSERT INTO outbox_attempts (event_id, attempt, at, success, outcome) VALUES ($1, 1, $2, 1, 'ok')",
        )
        .bind(id)
        .bind(NOW - age * DAY)
        .execute(&mut *tx)
        .await
        .expect("an attempt");
    }
    for (id, age) in [("seen-long-ago", 40), ("seen-lately", 2)] {
        sqlx::query("INSERT INTO inbox (event_id, source, event_type, received_at) VALUES ($1, 's', 't', $2)")
            .bind(id)
            .bind(NOW - age * DAY)
            .execute(&mut *tx)
            .await
            .expect("an inbox row");
    }
    for (id, age) in [("r-old", 10), ("r-new", 1)] {
        sqlx::query(
            "INSERT INTO idempotency (scope, request_id, response, created_at) VALUES ('Call/someone', $1, $2, $3)",
        )
        .bind(id)
        .bind(Vec::<u8>::new())
        .bind(NOW - age * DAY)
        .execute(&mut *tx)
        .await
        .expect("a request id");
    }
    tx.commit().await.expect("committed");

    let retention = Retention {
        delivered_events: Duration::from_secs(30 * 86_400),
        received_events: Duration::from_secs(30 * 86_400),
        request_ids: Duration::from_secs(7 * 86_400),
    };
    let pruned = prune(&db, &retention, NOW).await.expect("pruned");
    assert_eq!(
        pruned,
        Pruned {
            delivered_events: 1,
            received_events: 1,
            request_ids: 1,
        }
    );
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM outbox ORDER BY id")
        .fetch_all(db.reader())
        .await
        .expect("listed");
    assert_eq!(ids, ["new-delivered", "old-failed", "old-pending"]);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM outbox_attempts").await,
        3,
        "the deleted event's attempt went with it"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM inbox WHERE event_id = 'seen-lately'"
        )
        .await,
        1
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM inbox").await, 1);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM idempotency WHERE request_id = 'r-new'"
        )
        .await,
        1
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM idempotency").await, 1);
    // Nothing more to do the next time.
    assert_eq!(
        prune(&db, &retention, NOW).await.expect("pruned"),
        Pruned::default()
    );
}
