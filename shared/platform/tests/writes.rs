//! Writes sent together do what they would do one by one: every row
//! written with its own values, a versioned update that lost its race
//! failing the batch as a conflict on its resource, and a batch too large
//! for one statement still written whole.

use procedo_platform::db::{Database, Migrations};
use procedo_platform::error::Error;
use procedo_platform::query::values;
use procedo_platform::writes::Writes;
use procedo_testkit::{Backend, TestDatabase, backend_tests};

backend_tests!(
    a_batch_writes_every_row_with_its_own_values,
    a_stale_versioned_update_fails_the_batch_as_a_conflict_on_its_resource,
    a_batch_binding_more_than_one_statement_can_is_written_whole
);

const NO_TABLES: Migrations = Migrations {
    sqlite: &[],
    postgres: &[],
};

async fn things(backend: Backend) -> (TestDatabase, Database) {
    let database = TestDatabase::new(backend, "writes");
    let db = Database::connect(database.options(), NO_TABLES)
        .await
        .expect("db");
    let mut tx = db.begin().await.expect("tx");
    sqlx::query("CREATE TABLE things (id TEXT PRIMARY KEY, name TEXT, size BIGINT, version BIGINT NOT NULL)")
        .execute(&mut *tx)
        .await
        .expect("table");
    tx.commit().await.expect("committed");
    (database, db)
}

async fn rows(db: &Database) -> Vec<(String, Option<String>, Option<i64>, i64)> {
    sqlx::query_as("SELECT id, name, size, version FROM things ORDER BY id")
        .fetch_all(db.reader())
        .await
        .expect("rows")
}

fn insert(writes: &mut Writes, rows: &[(&str, Option<&str>, Option<i64>)]) {
    let sql = format!(
        "INSERT INTO things (id, name, size, version) VALUES {}",
        values(writes.backend(), rows.len(), 4)
    );
    let write = writes.push(sql);
    for (id, name, size) in rows {
        write.bind(*id).bind(*name).bind(*size).bind(1_i64);
    }
}

fn rename(writes: &mut Writes, id: &str, name: &str, read_version: i64) {
    writes
        .push_versioned(
            "UPDATE things SET name = $1, version = version + 1 WHERE id = $2 AND version = $3"
                .to_owned(),
            &format!("things/{id}"),
        )
        .bind(name)
        .bind(id)
        .bind(read_version);
}

async fn a_batch_writes_every_row_with_its_own_values(backend: Backend) {
    let (_database, db) = things(backend).await;
    let mut tx = db.begin().await.expect("tx");
    let mut writes = Writes::new(db.backend());
    insert(&mut writes, &[("a", Some("first"), Some(1))]);
    writes.run(&mut tx).await.expect("written");
    tx.commit().await.expect("committed");

    // Later writes of a batch bind past the earlier ones' values; NULLs
    // stay NULL; the untouched row stays as it was.
    let mut tx = db.begin().await.expect("tx");
    let mut writes = Writes::new(db.backend());
    rename(&mut writes, "a", "renamed", 1);
    insert(
        &mut writes,
        &[("b", None, Some(2)), ("c", Some("third"), None)],
    );
    writes
        .push("DELETE FROM things WHERE id = $1".to_owned())
        .bind("nothing");
    writes.run(&mut tx).await.expect("written");
    tx.commit().await.expect("committed");
    assert_eq!(
        rows(&db).await,
        [
            ("a".to_owned(), Some("renamed".to_owned()), Some(1), 2),
            ("b".to_owned(), None, Some(2), 1),
            ("c".to_owned(), Some("third".to_owned()), None, 1),
        ]
    );
}

async fn a_stale_versioned_update_fails_the_batch_as_a_conflict_on_its_resource(backend: Backend) {
    let (_database, db) = things(backend).await;
    let mut tx = db.begin().await.expect("tx");
    let mut writes = Writes::new(db.backend());
    insert(
        &mut writes,
        &[("a", Some("first"), None), ("b", Some("second"), None)],
    );
    writes.run(&mut tx).await.expect("written");
    tx.commit().await.expect("committed");

    let mut tx = db.begin().await.expect("tx");
    let mut writes = Writes::new(db.backend());
    rename(&mut writes, "a", "renamed", 1);
    rename(&mut writes, "b", "renamed", 7);
    insert(&mut writes, &[("c", Some("third"), None)]);
    match writes.run(&mut tx).await {
        Err(Error::Conflict(resource)) => assert_eq!(resource, "things/b"),
        other => panic!("expected a conflict on things/b, got {other:?}"),
    }
    tx.rollback().await.expect("rolled back");
    assert_eq!(
        rows(&db).await,
        [
            ("a".to_owned(), Some("first".to_owned()), None, 1),
            ("b".to_owned(), Some("second".to_owned()), None, 1),
        ]
    );
}

async fn a_batch_binding_more_than_one_statement_can_is_written_whole(backend: Backend) {
    let (_database, db) = things(backend).await;
    let mut tx = db.begin().await.expect("tx");
    let mut writes = Writes::new(db.backend());
    insert(&mut writes, &[("existing", None, None)]);
    writes.run(&mut tx).await.expect("written");
    tx.commit().await.expect("committed");

    let ids: Vec<String> = (0..20_000).map(|i| format!("{i:05}")).collect();
    let batch = |read_version: i64| {
        let mut writes = Writes::new(db.backend());
        // 4 values a row, 5,000 rows a statement: 80,000 values in all.
        for chunk in ids.chunks(5_000) {
            let chunk: Vec<_> = chunk
                .iter()
                .map(|id| (id.as_str(), None, Some(0)))
                .collect();
            insert(&mut writes, &chunk);
        }
        rename(&mut writes, "existing", "renamed", read_version);
        writes
    };

    let mut tx = db.begin().await.expect("tx");
    match batch(7).run(&mut tx).await {
        Err(Error::Conflict(resource)) => assert_eq!(resource, "things/existing"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    tx.rollback().await.expect("rolled back");
    assert_eq!(rows(&db).await.len(), 1);

    let mut tx = db.begin().await.expect("tx");
    batch(1).run(&mut tx).await.expect("written");
    tx.commit().await.expect("committed");
    let all = rows(&db).await;
    assert_eq!(all.len(), 20_001);
    assert_eq!(
        all[20_000],
        ("existing".to_owned(), Some("renamed".to_owned()), None, 2)
    );
}
