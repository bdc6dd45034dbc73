//! Checklist templates, plans, inspections, findings and rectification
//! notices, each kept whole as JSON beside the columns lists filter on;
//! ids are UUIDv7, so `id DESC` is newest first.

use procedo_platform::db::Database;
use procedo_platform::rows::{StoreError, expect_one, json, to_json};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::domain::inspection::{Finding, FindingStatus, Inspection, Plan, Scope, Template};
use crate::domain::notice::{Notice, NoticeStatus};

fn all<T: serde::de::DeserializeOwned>(rows: &[AnyRow]) -> Result<Vec<T>, sqlx::Error> {
    rows.iter().map(|r| json(r, "data")).collect()
}

pub async fn insert_template(tx: &mut AnyConnection, t: &Template) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO checklist_templates (id, scope, data, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&t.id)
    .bind(t.scope.as_str())
    .bind(to_json(t))
    .bind(t.created_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn get_template(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Template>, sqlx::Error> {
    super::record(conn, "checklist_templates", id).await
}

pub async fn list_templates(
    db: &Database,
    scope: Option<Scope>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Template>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT data FROM checklist_templates WHERE ($1 = '' OR scope = $1) \
         AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3",
    )
    .bind(scope.map(Scope::as_str).unwrap_or(""))
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    all(&rows)
}

pub async fn insert_plan(tx: &mut AnyConnection, p: &Plan) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO inspection_plans (id, data, created_at) VALUES ($1, $2, $3)")
        .bind(&p.id)
        .bind(to_json(p))
        .bind(p.created_at)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub async fn get_plan(conn: &mut AnyConnection, id: &str) -> Result<Option<Plan>, sqlx::Error> {
    super::record(conn, "inspection_plans", id).await
}

pub async fn list_plans(
    db: &Database,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Plan>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT data FROM inspection_plans WHERE ($1 = '' OR id < $1) ORDER BY id DESC LIMIT $2",
    )
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    all(&rows)
}

pub async fn insert_inspection(tx: &mut AnyConnection, i: &Inspection) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO inspections (id, plan_id, department, status, data, created_at, row_version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&i.id)
    .bind(&i.plan_id)
    .bind(&i.department)
    .bind(i.status.as_str())
    .bind(to_json(i))
    .bind(i.created_at)
    .bind(i.row_version)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Writes `i`, still at `read` in the database.
pub async fn update_inspection(
    tx: &mut AnyConnection,
    i: &Inspection,
    read: i64,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE inspections SET status = $1, data = $2, row_version = $3 \
         WHERE id = $4 AND row_version = $5",
    )
    .bind(i.status.as_str())
    .bind(to_json(i))
    .bind(i.row_version)
    .bind(&i.id)
    .bind(read)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    expect_one(updated)
}

pub async fn get_inspection(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Inspection>, sqlx::Error> {
    super::record(conn, "inspections", id).await
}

/// Which inspections a list reads; empty fields match all.
#[derive(Debug, Clone, Default)]
pub struct InspectionFilter {
    pub plan_id: String,
    pub department: String,
    pub status: String,
}

pub async fn list_inspections(
    db: &Database,
    f: &InspectionFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Inspection>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT data FROM inspections WHERE ($1 = '' OR plan_id = $1) AND ($2 = '' OR department = $2) \
         AND ($3 = '' OR status = $3) AND ($4 = '' OR id < $4) ORDER BY id DESC LIMIT $5",
    )
    .bind(&f.plan_id)
    .bind(&f.department)
    .bind(&f.status)
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    all(&rows)
}

pub async fn insert_finding(tx: &mut AnyConnection, f: &Finding) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO findings (id, inspection_id, department, status, data, created_at, row_version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&f.id)
    .bind(&f.inspection_id)
    .bind(&f.department)
    .bind(f.status.as_str())
    .bind(to_json(f))
    .bind(f.created_at)
    .bind(f.row_version)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn update_finding(
    tx: &mut AnyConnection,
    f: &Finding,
    read: i64,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE findings SET status = $1, data = $2, row_version = $3 WHERE id = $4 AND row_version = $5",
    )
    .bind(f.status.as_str())
    .bind(to_json(f))
    .bind(f.row_version)
    .bind(&f.id)
    .bind(read)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    expect_one(updated)
}

pub async fn get_finding(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Finding>, sqlx::Error> {
    super::record(conn, "findings", id).await
}

/// Which findings a list reads; empty fields match all.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub inspection_id: String,
    pub department: String,
    pub status: Option<FindingStatus>,
}

pub async fn list_findings(
    db: &Database,
    f: &FindingFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Finding>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT data FROM findings WHERE ($1 = '' OR inspection_id = $1) AND ($2 = '' OR department = $2) \
         AND ($3 = '' OR status = $3) AND ($4 = '' OR id < $4) ORDER BY id DESC LIMIT $5",
    )
    .bind(&f.inspection_id)
    .bind(&f.department)
    .bind(f.status.map(FindingStatus::as_str).unwrap_or(""))
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    all(&rows)
}

pub async fn insert_notice(tx: &mut AnyConnection, n: &Notice) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO rectification_notices (id, department, status, due_at, escalated_at, data, \
         created_at, row_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&n.id)
    .bind(&n.department)
    .bind(n.status.as_str())
    .bind(n.open_due())
    .bind(n.escalated_at)
    .bind(to_json(n))
    .bind(n.created_at)
    .bind(n.row_version)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn update_notice(
    tx: &mut AnyConnection,
    n: &Notice,
    read: i64,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE rectification_notices SET status = $1, due_at = $2, escalated_at = $3, data = $4, \
         row_version = $5 WHERE id = $6 AND row_version = $7",
    )
    .bind(n.status.as_str())
    .bind(n.open_due())
    .bind(n.escalated_at)
    .bind(to_json(n))
    .bind(n.row_version)
    .bind(&n.id)
    .bind(read)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    expect_one(updated)
}

pub async fn get_notice(conn: &mut AnyConnection, id: &str) -> Result<Option<Notice>, sqlx::Error> {
    super::record(conn, "rectification_notices", id).await
}

/// Which notices a list reads; empty fields match all.
#[derive(Debug, Clone, Default)]
pub struct NoticeFilter {
    pub department: String,
    pub status: Option<NoticeStatus>,
    /// Only open notices due before this time.
    pub overdue_at: Option<i64>,
}

pub async fn list_notices(
    db: &Database,
    f: &NoticeFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Notice>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT data FROM rectification_notices WHERE ($1 = '' OR department = $1) \
         AND ($2 = '' OR status = $2) AND ($3 = 0 OR due_at < $3) AND ($4 = '' OR id < $4) \
         ORDER BY id DESC LIMIT $5",
    )
    .bind(&f.department)
    .bind(f.status.map(NoticeStatus::as_str).unwrap_or(""))
    .bind(f.overdue_at.unwrap_or(0))
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    all(&rows)
}

/// Open notices due before `now` not yet escalated, oldest due first.
pub async fn overdue_notices(
    conn: &mut AnyConnection,
    now: i64,
    limit: i64,
) -> Result<Vec<Notice>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT data FROM rectification_notices WHERE due_at < $1 AND escalated_at IS NULL \
         ORDER BY due_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    all(&rows)
}

/// Open notices by id after `after`: what a calendar change may move.
pub async fn open_notices(
    conn: &mut AnyConnection,
    after: &str,
    limit: i64,
) -> Result<Vec<Notice>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT data FROM rectification_notices WHERE due_at IS NOT NULL AND id > $1 \
         ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    all(&rows)
}
