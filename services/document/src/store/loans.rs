use procedo_platform::db::Database;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::{StoreError, expect_one, from_json, to_json};
use crate::domain::loan::{Loan, LoanStatus};

pub async fn insert_loan(tx: &mut AnyConnection, l: &Loan) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO loans (id, document_id, borrower, status, due_at, escalated_at, data, \
         created_at, row_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&l.id)
    .bind(&l.document_id)
    .bind(&l.borrower.subject)
    .bind(l.status.as_str())
    .bind(l.deadline.as_ref().map(|d| d.due))
    .bind(l.escalated_at)
    .bind(to_json(l))
    .bind(l.created_at)
    .bind(l.row_version)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn update_loan(
    tx: &mut AnyConnection,
    l: &Loan,
    read_version: i64,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE loans SET status = $1, due_at = $2, escalated_at = $3, data = $4, row_version = $5 \
         WHERE id = $6 AND row_version = $7",
    )
    .bind(l.status.as_str())
    .bind(l.deadline.as_ref().map(|d| d.due))
    .bind(l.escalated_at)
    .bind(to_json(l))
    .bind(l.row_version)
    .bind(&l.id)
    .bind(read_version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    expect_one(updated)
}

pub async fn get_loan(conn: &mut AnyConnection, id: &str) -> Result<Option<Loan>, sqlx::Error> {
    sqlx::query("SELECT data FROM loans WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(loan_from_row)
        .transpose()
}

/// Whether `subject` holds an active loan of document `document_id`.
pub async fn has_active_loan(
    conn: &mut AnyConnection,
    document_id: &str,
    subject: &str,
) -> Result<bool, sqlx::Error> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT id FROM loans WHERE document_id = $1 AND borrower = $2 AND status = 'ACTIVE' LIMIT 1",
    )
    .bind(document_id)
    .bind(subject)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// Which loans a list reads.
#[derive(Debug, Clone, Default)]
pub struct LoanFilter {
    /// Only this borrower's (callers who do not manage loans).
    pub borrower: Option<String>,
    pub document_id: Option<String>,
    pub status: Option<LoanStatus>,
    /// Only active ones due before this time.
    pub overdue_at: Option<i64>,
}

/// Newest first.
pub async fn list_loans(
    db: &Database,
    f: &LoanFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Loan>, sqlx::Error> {
    sqlx::query(
        "SELECT data FROM loans WHERE ($1 = '' OR borrower = $1) AND ($2 = '' OR document_id = $2) \
         AND ($3 = '' OR status = $3) AND ($4 = 0 OR (status = 'ACTIVE' AND due_at < $4)) \
         AND ($5 = '' OR id < $5) ORDER BY id DESC LIMIT $6",
    )
    .bind(f.borrower.as_deref().unwrap_or(""))
    .bind(f.document_id.as_deref().unwrap_or(""))
    .bind(f.status.map(LoanStatus::as_str).unwrap_or(""))
    .bind(f.overdue_at.unwrap_or(0))
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(loan_from_row)
    .collect()
}

/// Active loans due before `now` not yet escalated, oldest due first.
pub async fn overdue_loans(
    conn: &mut AnyConnection,
    now: i64,
    limit: i64,
) -> Result<Vec<Loan>, sqlx::Error> {
    sqlx::query(
        "SELECT data FROM loans WHERE status = 'ACTIVE' AND escalated_at IS NULL AND due_at < $1 \
         ORDER BY due_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(loan_from_row)
    .collect()
}

/// Active loans by id after `after`: what a calendar change may move.
pub async fn active_loans(
    conn: &mut AnyConnection,
    after: &str,
    limit: i64,
) -> Result<Vec<Loan>, sqlx::Error> {
    sqlx::query("SELECT data FROM loans WHERE status = 'ACTIVE' AND id > $1 ORDER BY id LIMIT $2")
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(loan_from_row)
        .collect()
}

fn loan_from_row(row: &AnyRow) -> Result<Loan, sqlx::Error> {
    from_json(row, "data")
}
