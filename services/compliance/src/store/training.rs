//! Training plans, question banks, sessions and what each person did in
//! them; policy publications and their acknowledgements.

use std::collections::HashMap;

use procedo_platform::db::Database;
use procedo_platform::rows::{json, to_json};
use sqlx::{AnyConnection, Row as _};

use crate::domain::training::{Plan, Publication, QuestionBank, Session};

pub async fn insert_plan_record(tx: &mut AnyConnection, p: &Plan) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO training_plans (id, data, created_at) VALUES ($1, $2, $3)")
        .bind(&p.id)
        .bind(to_json(p))
        .bind(p.created_at)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub async fn get_training_plan(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Plan>, sqlx::Error> {
    super::record(conn, "training_plans", id).await
}

pub async fn list_training_plans(
    db: &Database,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Plan>, sqlx::Error> {
    sqlx::query(
        "SELECT data FROM training_plans WHERE ($1 = '' OR id < $1) ORDER BY id DESC LIMIT $2",
    )
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(|r| json(r, "data"))
    .collect()
}

pub async fn insert_bank(
    tx: &mut AnyConnection,
    b: &QuestionBank,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO question_banks (id, data, created_at) VALUES ($1, $2, $3)")
        .bind(&b.id)
        .bind(to_json(b))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub async fn get_bank(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<QuestionBank>, sqlx::Error> {
    super::record(conn, "question_banks", id).await
}

pub async fn insert_session(tx: &mut AnyConnection, s: &Session) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO training_sessions (id, plan_id, item_id, data, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&s.id)
    .bind(&s.plan_id)
    .bind(&s.item_id)
    .bind(to_json(s))
    .bind(s.created_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn get_session(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Session>, sqlx::Error> {
    super::record(conn, "training_sessions", id).await
}

/// Newest first; of one plan (and item) when given.
pub async fn list_sessions(
    db: &Database,
    plan_id: &str,
    item_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Session>, sqlx::Error> {
    sqlx::query(
        "SELECT data FROM training_sessions WHERE ($1 = '' OR plan_id = $1) AND ($2 = '' OR item_id = $2) \
         AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4",
    )
    .bind(plan_id)
    .bind(item_id)
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(|r| json(r, "data"))
    .collect()
}

pub async fn put_attendance(
    tx: &mut AnyConnection,
    session_id: &str,
    subject: &str,
    present: bool,
    by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO training_attendance (session_id, subject, present, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_id, subject) DO UPDATE SET \
         present = excluded.present, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
    )
    .bind(session_id)
    .bind(subject)
    .bind(i64::from(present))
    .bind(by)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Who was recorded present (true) or absent (false) at `session_id`.
pub async fn attendance(
    db: &Database,
    session_id: &str,
) -> Result<HashMap<String, bool>, sqlx::Error> {
    sqlx::query("SELECT subject, present FROM training_attendance WHERE session_id = $1")
        .bind(session_id)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("subject")?, r.try_get::<i64, _>("present")? != 0)))
        .collect()
}

/// How many attempts `subject` made at `session_id`'s exam.
pub async fn attempts(
    conn: &mut AnyConnection,
    session_id: &str,
    subject: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM exam_attempts WHERE session_id = $1 AND subject = $2")
        .bind(session_id)
        .bind(subject)
        .fetch_one(&mut *conn)
        .await
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_attempt(
    tx: &mut AnyConnection,
    session_id: &str,
    subject: &str,
    attempt: i64,
    score: i32,
    passed: bool,
    answers: &[Vec<usize>],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO exam_attempts (session_id, subject, attempt, score, passed, answers, taken_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(session_id)
    .bind(subject)
    .bind(attempt)
    .bind(i64::from(score))
    .bind(i64::from(passed))
    .bind(to_json(&answers))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub async fn put_practical(
    tx: &mut AnyConnection,
    session_id: &str,
    subject: &str,
    score: i32,
    passed: bool,
    notes: &str,
    by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO practical_scores (session_id, subject, score, passed, notes, scored_by, scored_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (session_id, subject) DO UPDATE SET \
         score = excluded.score, passed = excluded.passed, notes = excluded.notes, \
         scored_by = excluded.scored_by, scored_at = excluded.scored_at",
    )
    .bind(session_id)
    .bind(subject)
    .bind(i64::from(score))
    .bind(i64::from(passed))
    .bind(notes)
    .bind(by)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Records a questionnaire; false when `subject` answered one already.
pub async fn insert_questionnaire(
    tx: &mut AnyConnection,
    session_id: &str,
    subject: &str,
    satisfaction: i32,
    comment: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO questionnaires (session_id, subject, satisfaction, comment, answered_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_id, subject) DO NOTHING",
    )
    .bind(session_id)
    .bind(subject)
    .bind(i64::from(satisfaction))
    .bind(comment)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// What one person did at one session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub present: Option<bool>,
    /// Best score, and whether any attempt passed.
    pub exam: Option<(i32, bool)>,
    pub practical: Option<(i32, bool)>,
    pub satisfaction: Option<i32>,
}

fn int(r: &sqlx::any::AnyRow, column: &str) -> Result<i32, sqlx::Error> {
    Ok(i32::try_from(r.try_get::<i64, _>(column)?).unwrap_or(0))
}

/// Per session and subject, what `session_ids`' people did (all people
/// when `subject` is empty).
pub async fn outcomes(
    db: &Database,
    session_ids: &[String],
    subject: &str,
) -> Result<HashMap<(String, String), Outcome>, sqlx::Error> {
    let mut out: HashMap<(String, String), Outcome> = HashMap::new();
    for id in session_ids {
        let key = |r: &sqlx::any::AnyRow| -> Result<(String, String), sqlx::Error> {
            Ok((id.clone(), r.try_get("subject")?))
        };
        for r in sqlx::query(
            "SELECT subject, present FROM training_attendance WHERE session_id = $1 AND ($2 = '' OR subject = $2)",
        )
        .bind(id)
        .bind(subject)
        .fetch_all(db.reader())
        .await?
        {
            out.entry(key(&r)?).or_default().present = Some(r.try_get::<i64, _>("present")? != 0);
        }
        for r in sqlx::query(
            "SELECT subject, MAX(score) AS best, MAX(passed) AS passed FROM exam_attempts \
             WHERE session_id = $1 AND ($2 = '' OR subject = $2) GROUP BY subject",
        )
        .bind(id)
        .bind(subject)
        .fetch_all(db.reader())
        .await?
        {
            out.entry(key(&r)?).or_default().exam =
                Some((int(&r, "best")?, int(&r, "passed")? != 0));
        }
        for r in sqlx::query(
            "SELECT subject, score, passed FROM practical_scores WHERE session_id = $1 AND ($2 = '' OR subject = $2)",
        )
        .bind(id)
        .bind(subject)
        .fetch_all(db.reader())
        .await?
        {
            out.entry(key(&r)?).or_default().practical = Some((int(&r, "score")?, int(&r, "passed")? != 0));
        }
        for r in sqlx::query(
            "SELECT subject, satisfaction FROM questionnaires WHERE session_id = $1 AND ($2 = '' OR subject = $2)",
        )
        .bind(id)
        .bind(subject)
        .fetch_all(db.reader())
        .await?
        {
            out.entry(key(&r)?).or_default().satisfaction = Some(int(&r, "satisfaction")?);
        }
    }
    Ok(out)
}

/// The sessions `subject` has any record at.
pub async fn sessions_of(db: &Database, subject: &str) -> Result<Vec<String>, sqlx::Error> {
    let mut ids: Vec<String> = Vec::new();
    for table in [
        "training_attendance",
        "exam_attempts",
        "practical_scores",
        "questionnaires",
    ] {
        let sql = format!("SELECT DISTINCT session_id FROM {table} WHERE subject = $1");
        for id in sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
            .bind(subject)
            .fetch_all(db.reader())
            .await?
        {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

pub async fn insert_publication(
    tx: &mut AnyConnection,
    p: &Publication,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO policy_publications (id, document, active, acknowledge_by, reminded_at, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&p.id)
    .bind(&p.document)
    .bind(i64::from(p.active))
    .bind(p.acknowledge_by)
    .bind(p.reminded_at)
    .bind(to_json(p))
    .bind(p.published_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn update_publication(
    tx: &mut AnyConnection,
    p: &Publication,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE policy_publications SET active = $1, reminded_at = $2, data = $3 WHERE id = $4",
    )
    .bind(i64::from(p.active))
    .bind(p.reminded_at)
    .bind(to_json(p))
    .bind(&p.id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn get_publication(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Publication>, sqlx::Error> {
    super::record(conn, "policy_publications", id).await
}

/// The active publication of `document`, if any.
pub async fn active_publication(
    conn: &mut AnyConnection,
    document: &str,
) -> Result<Option<Publication>, sqlx::Error> {
    sqlx::query("SELECT data FROM policy_publications WHERE document = $1 AND active = 1")
        .bind(document)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| json(&r, "data"))
        .transpose()
}

/// Newest first.
pub async fn list_publications(
    db: &Database,
    document: &str,
    active_only: bool,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Publication>, sqlx::Error> {
    sqlx::query(
        "SELECT data FROM policy_publications WHERE ($1 = '' OR document = $1) AND ($2 = 0 OR active = 1) \
         AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4",
    )
    .bind(document)
    .bind(i64::from(active_only))
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(|r| json(r, "data"))
    .collect()
}

/// Active publications past their deadline whose late readers were not
/// reminded yet.
pub async fn publications_to_remind(
    conn: &mut AnyConnection,
    now: i64,
) -> Result<Vec<Publication>, sqlx::Error> {
    sqlx::query(
        "SELECT data FROM policy_publications WHERE active = 1 AND acknowledge_by < $1 AND reminded_at IS NULL",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| json(r, "data"))
    .collect()
}

/// Records an acknowledgement; false when there was one already.
pub async fn insert_acknowledgement(
    tx: &mut AnyConnection,
    publication_id: &str,
    subject: &str,
    quiz_score: Option<i32>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO acknowledgements (publication_id, subject, quiz_score, acknowledged_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (publication_id, subject) DO NOTHING",
    )
    .bind(publication_id)
    .bind(subject)
    .bind(quiz_score.map(i64::from))
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Who acknowledged `publication_id`: subject → (time, quiz score).
pub async fn acknowledgements(
    conn: &mut AnyConnection,
    publication_id: &str,
) -> Result<HashMap<String, (i64, Option<i32>)>, sqlx::Error> {
    sqlx::query("SELECT subject, quiz_score, acknowledged_at FROM acknowledgements WHERE publication_id = $1")
        .bind(publication_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            let score: Option<i64> = r.try_get("quiz_score")?;
            Ok((
                r.try_get("subject")?,
                (r.try_get("acknowledged_at")?, score.and_then(|s| i32::try_from(s).ok())),
            ))
        })
        .collect()
}
