//! Which inquiries and applications ran out unreported, and marking them
//! reported: the compliance service hears of each once.

use sqlx::{AnyConnection, Row as _};

/// An inquiry or application that ran out, as compliance is told of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    pub id: String,
    pub ledger_number: String,
    pub status: String,
    pub department: String,
    pub due_at: i64,
    /// An inquiry answered, but after its deadline.
    pub answered_late: bool,
}

/// Inquiries not yet reported that ran out: still unanswered past their
/// due time before `now`, or answered after it; oldest due first.
pub async fn unreported_inquiries(
    conn: &mut AnyConnection,
    now: i64,
    limit: i64,
) -> Result<Vec<Overdue>, sqlx::Error> {
    // Two statements, each reading its own partial index.
    let mut running: Vec<Overdue> = sqlx::query(
        "SELECT id, '' AS ledger_number, status, department, response_due_at AS due_at, \
         0 AS answered_late FROM inquiries WHERE response_state = 'RUNNING' \
         AND overdue_reported_at IS NULL AND response_due_at < $1 ORDER BY response_due_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(overdue_from_row)
    .collect::<Result<_, _>>()?;
    let late = sqlx::query(
        "SELECT id, '' AS ledger_number, status, department, response_due_at AS due_at, \
         1 AS answered_late FROM inquiries WHERE response_state = 'MET' \
         AND overdue_reported_at IS NULL \
         AND COALESCE(first_response_at, resolved_at) > response_due_at \
         ORDER BY response_due_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    for row in &late {
        running.push(overdue_from_row(row)?);
    }
    Ok(running)
}

/// Applications still being handled past their due time, not yet
/// reported, with the department their type names; oldest due first.
pub async fn unreported_applications(
    conn: &mut AnyConnection,
    now: i64,
    limit: i64,
) -> Result<Vec<Overdue>, sqlx::Error> {
    sqlx::query(
        "SELECT a.id, a.ledger_number, a.status, t.handling_department AS department, a.due_at, \
         0 AS answered_late \
         FROM applications a JOIN application_types t ON t.code = a.type_code \
         WHERE a.status IN ('PENDING_REVIEW', 'ACCEPTED', 'IN_PROGRESS') \
         AND a.overdue_reported_at IS NULL AND a.due_at < $1 ORDER BY a.due_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(overdue_from_row)
    .collect()
}

fn overdue_from_row(row: &sqlx::any::AnyRow) -> Result<Overdue, sqlx::Error> {
    Ok(Overdue {
        id: row.try_get("id")?,
        ledger_number: row.try_get("ledger_number")?,
        status: row.try_get("status")?,
        department: row.try_get("department")?,
        due_at: row.try_get("due_at")?,
        answered_late: row.try_get::<i64, _>("answered_late")? != 0,
    })
}

/// Marks `table`'s row `id` reported at `now`; false when another replica
/// did first.
pub async fn mark_reported(
    tx: &mut AnyConnection,
    table: Reported,
    id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql = match table {
        Reported::Inquiry => {
            "UPDATE inquiries SET overdue_reported_at = $1 WHERE id = $2 AND overdue_reported_at IS NULL"
        }
        Reported::Application => {
            "UPDATE applications SET overdue_reported_at = $1 WHERE id = $2 AND overdue_reported_at IS NULL"
        }
    };
    let marked = sqlx::query(sql)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    Ok(marked == 1)
}

/// What was reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    Inquiry,
    Application,
}
