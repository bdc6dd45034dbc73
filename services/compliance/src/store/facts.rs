//! Facts: what the services reported (and compliance recorded), read by the
//! automatic checks and the assessment indicators.

use std::collections::HashMap;

use procedo_platform::db::Database;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::domain::fact::{Fact, kind};
use crate::domain::inspection::{CheckKind, Hit};

const COLUMNS: &str = "event_id, kind, resource, department, person, occurred_at, due_at, value, \
                       outcome, category, series, round, evidence";

/// Keeps `f`; a fact kept before is left as it was.
pub async fn insert_fact(tx: &mut AnyConnection, f: &Fact) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO facts (event_id, kind, resource, department, person, occurred_at, due_at, \
         value, outcome, category, series, round, evidence) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(&f.event_id)
    .bind(&f.kind)
    .bind(&f.resource)
    .bind(&f.department)
    .bind(&f.person)
    .bind(f.occurred_at)
    .bind(f.due_at)
    .bind(f.value)
    .bind(&f.outcome)
    .bind(&f.category)
    .bind(&f.series)
    .bind(f.round)
    .bind(&f.evidence)
    // A NULL double is sent as a float4 parameter by sqlx's Any driver
    // (sqlx-core 0.9, any/arguments.rs): a statement prepared with one
    // fails when reused with a value, so it is not kept prepared.
    .persistent(false)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn fact_from_row(r: &AnyRow) -> Result<Fact, sqlx::Error> {
    Ok(Fact {
        event_id: r.try_get("event_id")?,
        kind: r.try_get("kind")?,
        resource: r.try_get("resource")?,
        department: r.try_get("department")?,
        person: r.try_get("person")?,
        occurred_at: r.try_get("occurred_at")?,
        due_at: r.try_get("due_at")?,
        value: r.try_get("value")?,
        outcome: r.try_get("outcome")?,
        category: r.try_get("category")?,
        series: r.try_get("series")?,
        round: r.try_get("round")?,
        evidence: r.try_get("evidence")?,
    })
}

/// The most hits one check proposes for one inspection.
pub const MAX_HITS: i64 = 500;

/// What `check` finds in `department` over [`start`, `end`), oldest first.
pub async fn hits(
    db: &Database,
    check: CheckKind,
    department: &str,
    start: i64,
    end: i64,
) -> Result<Vec<Hit>, sqlx::Error> {
    // An approval counts until the document is signed, whenever that is.
    let unsigned = if check == CheckKind::ApprovedNotSigned {
        "AND NOT EXISTS (SELECT 1 FROM facts s WHERE s.resource = facts.resource AND s.kind = $6)"
    } else {
        ""
    };
    let sql = format!(
        "SELECT resource, occurred_at, evidence FROM facts WHERE kind = $1 AND department = $2 \
         AND occurred_at >= $3 AND occurred_at < $4 {unsigned} ORDER BY occurred_at LIMIT $5"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(check.as_str())
        .bind(department)
        .bind(start)
        .bind(end)
        .bind(MAX_HITS);
    if check == CheckKind::ApprovedNotSigned {
        query = query.bind(kind::DOCUMENT_SIGNED);
    }
    query
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(|r| {
            Ok(Hit {
                check,
                resource: r.try_get("resource")?,
                occurred_at: r.try_get("occurred_at")?,
                evidence: r.try_get("evidence")?,
            })
        })
        .collect()
}

/// The facts of `kind` that happened in [`start`, `end`).
pub async fn facts_of(
    db: &Database,
    kind: &str,
    start: i64,
    end: i64,
) -> Result<Vec<Fact>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM facts WHERE kind = $1 AND occurred_at >= $2 AND occurred_at < $3 \
         ORDER BY occurred_at, event_id"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(kind)
        .bind(start)
        .bind(end)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(fact_from_row)
        .collect()
}

/// Per key (a fact's `key_column`, among `keys`), the lowest `value_column`
/// of the facts of `kind`: one statement per few hundred keys.
async fn lowest_by(
    db: &Database,
    kind: &str,
    key_column: &str,
    value_column: &str,
    keys: &[&str],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let mut out = HashMap::new();
    for chunk in keys.chunks(500) {
        let marks: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {key_column} AS k, MIN({value_column}) AS v FROM facts WHERE kind = $1 \
             AND {key_column} IN ({}) GROUP BY {key_column}",
            marks.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(kind);
        for key in chunk {
            query = query.bind(*key);
        }
        for row in query.fetch_all(db.reader()).await? {
            out.insert(row.try_get("k")?, row.try_get("v")?);
        }
    }
    Ok(out)
}

/// Each of `series`' lowest round among the facts of `kind`, all time.
pub async fn first_rounds(
    db: &Database,
    kind: &str,
    series: &[&str],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    lowest_by(db, kind, "series", "round", series).await
}

/// When each of `resources` was registered, where a fact says so.
pub async fn registered_at(
    db: &Database,
    resources: &[&str],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    lowest_by(
        db,
        kind::DOCUMENT_REGISTERED,
        "resource",
        "occurred_at",
        resources,
    )
    .await
}

/// The facts behind a figure, oldest first, after `after` (an event id).
pub async fn input_facts(
    db: &Database,
    period_id: &str,
    indicator: &str,
    subject_kind: &str,
    subject: &str,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<Fact>, sqlx::Error> {
    let (after_at, after_id) = after.unwrap_or((i64::MIN, ""));
    let sql = format!(
        "SELECT {} FROM assessment_inputs i JOIN facts f ON f.event_id = i.event_id \
         WHERE i.period_id = $1 AND i.indicator = $2 AND i.subject_kind = $3 AND i.subject = $4 \
         AND (f.occurred_at > $5 OR (f.occurred_at = $5 AND f.event_id > $6)) \
         ORDER BY f.occurred_at, f.event_id LIMIT $7",
        COLUMNS
            .split(", ")
            .map(|c| format!("f.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(period_id)
        .bind(indicator)
        .bind(subject_kind)
        .bind(subject)
        .bind(after_at)
        .bind(after_id)
        .bind(limit)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(fact_from_row)
        .collect()
}
