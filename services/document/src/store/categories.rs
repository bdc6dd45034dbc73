use procedo_platform::db::Database;
use procedo_platform::paging::Page;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::{StoreError, corrupt, expect_one, from_json, level, level_from, to_json};
use crate::domain::category::Category;
use crate::domain::numbering::{Pattern, Reset};

const COLUMNS: &str = "code, display_name, number_pattern, number_reset, default_confidentiality, \
    retention_years, required_signatures, created_at, updated_at, version";

/// Adds a category; false when the code is taken.
pub async fn insert_category(tx: &mut AnyConnection, c: &Category) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO categories (code, display_name, number_pattern, number_reset, \
         default_confidentiality, retention_years, required_signatures, created_at, updated_at, \
         version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (code) DO NOTHING",
    )
    .bind(&c.code)
    .bind(&c.display_name)
    .bind(c.pattern.to_string())
    .bind(c.reset.as_str())
    .bind(level(c.default_confidentiality))
    .bind(i64::from(c.retention_years))
    .bind(to_json(&c.required_signatures))
    .bind(c.created_at)
    .bind(c.updated_at)
    .bind(c.version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn update_category(
    tx: &mut AnyConnection,
    c: &Category,
    read_version: i64,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE categories SET display_name = $1, number_pattern = $2, number_reset = $3, \
         default_confidentiality = $4, retention_years = $5, required_signatures = $6, \
         updated_at = $7, version = $8 WHERE code = $9 AND version = $10",
    )
    .bind(&c.display_name)
    .bind(c.pattern.to_string())
    .bind(c.reset.as_str())
    .bind(level(c.default_confidentiality))
    .bind(i64::from(c.retention_years))
    .bind(to_json(&c.required_signatures))
    .bind(c.updated_at)
    .bind(c.version)
    .bind(&c.code)
    .bind(read_version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    expect_one(updated)
}

pub async fn get_category(
    conn: &mut AnyConnection,
    code: &str,
) -> Result<Option<Category>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM categories WHERE code = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(category_from_row)
        .transpose()
}

/// By code.
pub async fn list_categories(db: &Database, page: &Page) -> Result<Vec<Category>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM categories WHERE ($1 = '' OR code > $1) ORDER BY code LIMIT $2"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(page.after.as_deref().unwrap_or(""))
        .bind(page.fetch_limit())
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(category_from_row)
        .collect()
}

fn category_from_row(row: &AnyRow) -> Result<Category, sqlx::Error> {
    let reset: String = row.try_get("number_reset")?;
    let reset = Reset::parse(&reset).ok_or_else(|| corrupt("number_reset", &reset))?;
    let pattern: String = row.try_get("number_pattern")?;
    Ok(Category {
        code: row.try_get("code")?,
        display_name: row.try_get("display_name")?,
        pattern: Pattern::parse(&pattern, reset)
            .map_err(|_| corrupt("number_pattern", &pattern))?,
        reset,
        default_confidentiality: level_from(row.try_get("default_confidentiality")?)?,
        retention_years: i32::try_from(row.try_get::<i64, _>("retention_years")?).unwrap_or(0),
        required_signatures: from_json(row, "required_signatures")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
    })
}

/// Takes the next sequence number of a category's `(period, department)`
/// inside the registering transaction.
pub async fn next_seq(
    tx: &mut AnyConnection,
    category: &str,
    period: &str,
    department: &str,
) -> Result<i64, sqlx::Error> {
    // The upsert takes the row's lock (PostgreSQL) or the write lock
    // (SQLite) before reading, so two registrations never read the same
    // last number.
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO number_counters (category, period, department, last_seq) \
         VALUES ($1, $2, $3, 1) \
         ON CONFLICT (category, period, department) \
         DO UPDATE SET last_seq = number_counters.last_seq + 1 RETURNING last_seq",
    )
    .bind(category)
    .bind(period)
    .bind(department)
    .fetch_one(&mut *tx)
    .await
}
