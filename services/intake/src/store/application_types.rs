use procedo_platform::calendar::Limit;
use procedo_platform::db::Database;
use procedo_platform::paging::Page;
use procedo_platform::time::Millis;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::{StoreError, corrupt, expect_one, from_json, to_json};
use crate::domain::application_type::ApplicationType;

const COLUMNS: &str = "code, display_name, in_scope, materials, processing_limit_ms, processing_limit, \
    process_key, handling_department, created_at, updated_at, version, calendar";

/// Adds a type; false when the code is taken.
#[tracing::instrument(skip_all, fields(code = %t.code))]
pub async fn insert_type(tx: &mut AnyConnection, t: &ApplicationType) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO application_types (code, display_name, in_scope, materials, processing_limit_ms, \
         process_key, handling_department, created_at, updated_at, version, processing_limit, \
         calendar) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (code) DO NOTHING",
    )
    .bind(&t.code)
    .bind(&t.display_name)
    .bind(i64::from(t.in_scope))
    .bind(to_json(&t.materials))
    .bind(elapsed_ms(t.processing_limit))
    .bind(&t.process_key)
    .bind(&t.handling_department)
    .bind(t.created_at)
    .bind(t.updated_at)
    .bind(t.version)
    .bind(t.processing_limit.to_string())
    .bind(&t.calendar)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

#[tracing::instrument(skip_all, fields(code = %t.code))]
pub async fn update_type(
    tx: &mut AnyConnection,
    t: &ApplicationType,
    read_version: i64,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE application_types SET display_name = $1, in_scope = $2, materials = $3, \
         processing_limit_ms = $4, process_key = $5, handling_department = $6, updated_at = $7, \
         version = $8, processing_limit = $11, calendar = $12 WHERE code = $9 AND version = $10",
    )
    .bind(&t.display_name)
    .bind(i64::from(t.in_scope))
    .bind(to_json(&t.materials))
    .bind(elapsed_ms(t.processing_limit))
    .bind(&t.process_key)
    .bind(&t.handling_department)
    .bind(t.updated_at)
    .bind(t.version)
    .bind(&t.code)
    .bind(read_version)
    .bind(t.processing_limit.to_string())
    .bind(&t.calendar)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    expect_one(updated)
}

#[tracing::instrument(skip_all, fields(code = %code))]
pub async fn get_type(
    conn: &mut AnyConnection,
    code: &str,
) -> Result<Option<ApplicationType>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM application_types WHERE code = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(type_from_row)
        .transpose()
}

/// By code.
#[tracing::instrument(skip_all)]
pub async fn list_types(db: &Database, page: &Page) -> Result<Vec<ApplicationType>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM application_types WHERE ($1 = '' OR code > $1) ORDER BY code LIMIT $2"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(page.after.as_deref().unwrap_or(""))
        .bind(page.fetch_limit())
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(type_from_row)
        .collect()
}

fn type_from_row(row: &AnyRow) -> Result<ApplicationType, sqlx::Error> {
    Ok(ApplicationType {
        code: row.try_get("code")?,
        display_name: row.try_get("display_name")?,
        in_scope: row.try_get::<i64, _>("in_scope")? != 0,
        materials: from_json(row, "materials")?,
        processing_limit: limit_from_row(row)?,
        process_key: row.try_get("process_key")?,
        handling_department: row.try_get("handling_department")?,
        calendar: row.try_get("calendar")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
    })
}

/// What the older `processing_limit_ms` column holds: the elapsed limit, or
/// 0 for working time.
fn elapsed_ms(limit: Limit) -> Millis {
    match limit {
        Limit::Elapsed(ms) => ms,
        Limit::WorkingTime(_) | Limit::WorkingDays(_) => 0,
    }
}

fn limit_from_row(row: &AnyRow) -> Result<Limit, sqlx::Error> {
    let text: String = row.try_get("processing_limit")?;
    if text.is_empty() {
        return Ok(Limit::Elapsed(row.try_get("processing_limit_ms")?));
    }
    Limit::parse(&text).map_err(|_| corrupt("processing_limit", &text))
}
