//! The directory's people and departments.

use procedo_platform::db::Database;
use procedo_platform::rows::{json, to_json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::domain::directory::{Department, Member, Source};

fn member_from_row(r: &AnyRow) -> Result<Member, sqlx::Error> {
    let source: String = r.try_get("source")?;
    Ok(Member {
        subject: r.try_get("subject")?,
        name: r.try_get("display_name")?,
        title: r.try_get("title")?,
        department: r.try_get("department")?,
        roles: json(r, "roles")?,
        source: Source::parse(&source),
        active: r.try_get::<i64, _>("active")? != 0,
        updated_at: r.try_get("updated_at")?,
    })
}

fn department_from_row(r: &AnyRow) -> Result<Department, sqlx::Error> {
    Ok(Department {
        code: r.try_get("code")?,
        name: r.try_get("display_name")?,
        head: r.try_get("head")?,
        parent: r.try_get("parent")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Adds or replaces `m`.
pub async fn put_member(tx: &mut AnyConnection, m: &Member) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO people (subject, display_name, title, department, roles, source, active, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (subject) DO UPDATE SET \
         display_name = excluded.display_name, title = excluded.title, \
         department = excluded.department, roles = excluded.roles, source = excluded.source, \
         active = excluded.active, updated_at = excluded.updated_at",
    )
    .bind(&m.subject)
    .bind(&m.name)
    .bind(&m.title)
    .bind(&m.department)
    .bind(to_json(&m.roles))
    .bind(m.source.as_str())
    .bind(i64::from(m.active))
    .bind(m.updated_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn put_department(tx: &mut AnyConnection, d: &Department) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO departments (code, display_name, head, parent, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET \
         display_name = excluded.display_name, head = excluded.head, parent = excluded.parent, \
         updated_at = excluded.updated_at",
    )
    .bind(&d.code)
    .bind(&d.name)
    .bind(&d.head)
    .bind(&d.parent)
    .bind(d.updated_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn get_member(
    conn: &mut AnyConnection,
    subject: &str,
) -> Result<Option<Member>, sqlx::Error> {
    sqlx::query("SELECT * FROM people WHERE subject = $1")
        .bind(subject)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(member_from_row)
        .transpose()
}

pub async fn get_department(
    conn: &mut AnyConnection,
    code: &str,
) -> Result<Option<Department>, sqlx::Error> {
    sqlx::query("SELECT * FROM departments WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(department_from_row)
        .transpose()
}

/// By subject after `after`.
pub async fn list_members(
    db: &Database,
    department: &str,
    include_inactive: bool,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Member>, sqlx::Error> {
    sqlx::query(
        "SELECT * FROM people WHERE ($1 = '' OR department = $1) AND ($2 = 1 OR active = 1) \
         AND subject > $3 ORDER BY subject LIMIT $4",
    )
    .bind(department)
    .bind(i64::from(include_inactive))
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(member_from_row)
    .collect()
}

/// The active people of `departments` (all when empty).
pub async fn members_of(db: &Database, departments: &[String]) -> Result<Vec<Member>, sqlx::Error> {
    let rows = if departments.is_empty() {
        sqlx::query("SELECT * FROM people WHERE active = 1 ORDER BY subject")
            .fetch_all(db.reader())
            .await?
    } else {
        let marks: Vec<String> = (1..=departments.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT * FROM people WHERE active = 1 AND department IN ({}) ORDER BY subject",
            marks.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for d in departments {
            query = query.bind(d);
        }
        query.fetch_all(db.reader()).await?
    };
    rows.iter().map(member_from_row).collect()
}

/// Every department, by code (few enough to read whole).
pub async fn all_departments(db: &Database) -> Result<Vec<Department>, sqlx::Error> {
    sqlx::query("SELECT * FROM departments ORDER BY code")
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(department_from_row)
        .collect()
}
