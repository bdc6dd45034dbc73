//! Assessment schemes, periods, their figures and the facts behind them,
//! and accountability records.

use procedo_platform::db::Database;
use procedo_platform::rows::{StoreError, expect_one, json, to_json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::domain::assessment::{AccountabilityRecord, Period, Scheme, ScoreRow, SubjectKind};

fn all<T: serde::de::DeserializeOwned>(rows: &[AnyRow]) -> Result<Vec<T>, sqlx::Error> {
    rows.iter().map(|r| json(r, "data")).collect()
}

pub async fn insert_scheme(tx: &mut AnyConnection, s: &Scheme) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO assessment_schemes (id, active, data, created_at, row_version) \
         VALUES ($1, 1, $2, $3, $4)",
    )
    .bind(&s.id)
    .bind(to_json(s))
    .bind(s.created_at)
    .bind(s.row_version)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn get_scheme(conn: &mut AnyConnection, id: &str) -> Result<Option<Scheme>, sqlx::Error> {
    super::record(conn, "assessment_schemes", id).await
}

/// Newest first.
pub async fn list_schemes(
    db: &Database,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Scheme>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT data FROM assessment_schemes WHERE ($1 = '' OR id < $1) ORDER BY id DESC LIMIT $2",
    )
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    all(&rows)
}

pub async fn period_of(
    conn: &mut AnyConnection,
    scheme_id: &str,
    label: &str,
) -> Result<Option<Period>, sqlx::Error> {
    sqlx::query("SELECT data FROM assessment_periods WHERE scheme_id = $1 AND period = $2")
        .bind(scheme_id)
        .bind(label)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| json(&r, "data"))
        .transpose()
}

/// Inserts `p` unless its scheme has the period already; whether it did.
pub async fn insert_period(tx: &mut AnyConnection, p: &Period) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO assessment_periods (id, scheme_id, period, status, data, created_at, row_version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (scheme_id, period) DO NOTHING",
    )
    .bind(&p.id)
    .bind(&p.scheme_id)
    .bind(&p.label)
    .bind(p.status.as_str())
    .bind(to_json(p))
    .bind(p.created_at)
    .bind(p.row_version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn update_period(
    tx: &mut AnyConnection,
    p: &Period,
    read: i64,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE assessment_periods SET status = $1, data = $2, row_version = $3 \
         WHERE id = $4 AND row_version = $5",
    )
    .bind(p.status.as_str())
    .bind(to_json(p))
    .bind(p.row_version)
    .bind(&p.id)
    .bind(read)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    expect_one(updated)
}

pub async fn get_period(conn: &mut AnyConnection, id: &str) -> Result<Option<Period>, sqlx::Error> {
    super::record(conn, "assessment_periods", id).await
}

/// Newest first.
pub async fn list_periods(
    db: &Database,
    scheme_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Period>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT data FROM assessment_periods WHERE ($1 = '' OR scheme_id = $1) \
         AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3",
    )
    .bind(scheme_id)
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    all(&rows)
}

fn score_from_row(r: &AnyRow) -> Result<ScoreRow, sqlx::Error> {
    let kind: String = r.try_get("subject_kind")?;
    Ok(ScoreRow {
        subject_kind: SubjectKind::parse(&kind)
            .ok_or_else(|| super::corrupt("subject_kind", &kind))?,
        subject: r.try_get("subject")?,
        department: r.try_get("department")?,
        indicator: r.try_get("indicator")?,
        value: r.try_get("value")?,
        count: r.try_get("count")?,
        score: r.try_get("score")?,
        manual: r.try_get::<i64, _>("manual")? != 0,
        justification: r.try_get("justification")?,
        assessor: r.try_get("assessor")?,
    })
}

const SCORE_COLUMNS: &str = "subject_kind, subject, department, indicator, value, count, score, manual, justification, assessor";

/// Every figure of period `period_id`.
pub async fn scores_of(
    conn: &mut AnyConnection,
    period_id: &str,
) -> Result<Vec<ScoreRow>, sqlx::Error> {
    let sql = format!("SELECT {SCORE_COLUMNS} FROM assessment_scores WHERE period_id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(period_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(score_from_row)
        .collect()
}

/// Replaces period `period_id`'s computed figures and totals with `rows`
/// (manual scores stay) and the facts behind them with `inputs`
/// (indicator, subject kind, subject, event id).
pub async fn replace_scores(
    tx: &mut AnyConnection,
    period_id: &str,
    rows: &[ScoreRow],
    inputs: &[(String, SubjectKind, String, String)],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM assessment_scores WHERE period_id = $1 AND manual = 0")
        .bind(period_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM assessment_inputs WHERE period_id = $1")
        .bind(period_id)
        .execute(&mut *tx)
        .await?;
    for chunk in rows
        .iter()
        .filter(|r| !r.manual)
        .collect::<Vec<_>>()
        .chunks(50)
    {
        let values = (0..chunk.len())
            .map(|i| {
                let marks: Vec<String> = (1..=11).map(|k| format!("${}", 11 * i + k)).collect();
                format!("({})", marks.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql =
            format!("INSERT INTO assessment_scores (period_id, {SCORE_COLUMNS}) VALUES {values}");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in chunk {
            query = query
                .bind(period_id)
                .bind(r.subject_kind.as_str())
                .bind(&r.subject)
                .bind(&r.department)
                .bind(&r.indicator)
                .bind(r.value)
                .bind(r.count)
                .bind(r.score)
                .bind(0_i64)
                .bind(&r.justification)
                .bind(&r.assessor);
        }
        // Optional doubles: not kept prepared (see `insert_fact`).
        query.persistent(false).execute(&mut *tx).await?;
    }
    for chunk in inputs.chunks(150) {
        let values = (0..chunk.len())
            .map(|i| {
                let marks: Vec<String> = (1..=5).map(|k| format!("${}", 5 * i + k)).collect();
                format!("({})", marks.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO assessment_inputs (period_id, indicator, subject_kind, subject, event_id) \
             VALUES {values}"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (indicator, kind, subject, event) in chunk {
            query = query
                .bind(period_id)
                .bind(indicator)
                .bind(kind.as_str())
                .bind(subject)
                .bind(event);
        }
        query.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Sets a manual score (replacing the subject's earlier one).
pub async fn put_manual_score(
    tx: &mut AnyConnection,
    period_id: &str,
    r: &ScoreRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM assessment_scores WHERE period_id = $1 AND subject_kind = $2 AND subject = $3 \
         AND indicator = $4",
    )
    .bind(period_id)
    .bind(r.subject_kind.as_str())
    .bind(&r.subject)
    .bind(&r.indicator)
    .execute(&mut *tx)
    .await?;
    let sql = format!(
        "INSERT INTO assessment_scores (period_id, {SCORE_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(period_id)
        .bind(r.subject_kind.as_str())
        .bind(&r.subject)
        .bind(&r.department)
        .bind(&r.indicator)
        .bind(r.value)
        .bind(r.count)
        .bind(r.score)
        .bind(&r.justification)
        .bind(&r.assessor)
        .persistent(false)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Sets a subject's total (replacing the one before).
pub async fn put_total(
    tx: &mut AnyConnection,
    period_id: &str,
    r: &ScoreRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM assessment_scores WHERE period_id = $1 AND subject_kind = $2 AND subject = $3 \
         AND indicator = ''",
    )
    .bind(period_id)
    .bind(r.subject_kind.as_str())
    .bind(&r.subject)
    .execute(&mut *tx)
    .await?;
    let sql = format!(
        "INSERT INTO assessment_scores (period_id, {SCORE_COLUMNS}) \
         VALUES ($1, $2, $3, $4, '', NULL, $5, $6, 0, '', '')"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(period_id)
        .bind(r.subject_kind.as_str())
        .bind(&r.subject)
        .bind(&r.department)
        .bind(r.count)
        .bind(r.score)
        .persistent(false)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Which figures a list reads.
#[derive(Debug, Clone, Default)]
pub struct ScoreFilter {
    pub subject_kind: Option<SubjectKind>,
    pub subject: String,
    /// Only figures of this department (a department head's view).
    pub department: String,
}

/// By subject kind, subject and indicator (the total first), after the
/// cursor.
pub async fn list_scores(
    db: &Database,
    period_id: &str,
    f: &ScoreFilter,
    after: Option<(&str, &str, &str)>,
    limit: i64,
) -> Result<Vec<ScoreRow>, sqlx::Error> {
    let (ak, asub, aind) = after.unwrap_or(("", "", ""));
    let sql = format!(
        "SELECT {SCORE_COLUMNS} FROM assessment_scores WHERE period_id = $1 \
         AND ($2 = '' OR subject_kind = $2) AND ($3 = '' OR subject = $3) \
         AND ($4 = '' OR department = $4) \
         AND ($5 = '' OR subject_kind > $5 OR (subject_kind = $5 AND (subject > $6 \
              OR (subject = $6 AND indicator > $7)))) \
         ORDER BY subject_kind, subject, indicator LIMIT $8"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(period_id)
        .bind(f.subject_kind.map(SubjectKind::as_str).unwrap_or(""))
        .bind(&f.subject)
        .bind(&f.department)
        .bind(ak)
        .bind(asub)
        .bind(aind)
        .bind(limit)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(score_from_row)
        .collect()
}

pub async fn insert_record(
    tx: &mut AnyConnection,
    r: &AccountabilityRecord,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO accountability_records (id, subject, status, data, created_at, row_version) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&r.id)
    .bind(&r.subject)
    .bind(r.status.as_str())
    .bind(to_json(r))
    .bind(r.proposed_at)
    .bind(r.row_version)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn update_record(
    tx: &mut AnyConnection,
    r: &AccountabilityRecord,
    read: i64,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE accountability_records SET status = $1, data = $2, row_version = $3 \
         WHERE id = $4 AND row_version = $5",
    )
    .bind(r.status.as_str())
    .bind(to_json(r))
    .bind(r.row_version)
    .bind(&r.id)
    .bind(read)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    expect_one(updated)
}

pub async fn get_record(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<AccountabilityRecord>, sqlx::Error> {
    super::record(conn, "accountability_records", id).await
}

/// Newest first; of `subjects` only (at most two: a person and their
/// department), when any.
pub async fn list_records(
    db: &Database,
    subjects: &[String],
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<AccountabilityRecord>, sqlx::Error> {
    let (a, b) = match subjects {
        [] => ("", ""),
        [a] => (a.as_str(), a.as_str()),
        [a, b, ..] => (a.as_str(), b.as_str()),
    };
    let rows = sqlx::query(
        "SELECT data FROM accountability_records WHERE ($1 = '' OR subject = $1 OR subject = $2) \
         AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4",
    )
    .bind(a)
    .bind(b)
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    all(&rows)
}
