use procedo_platform::db::Database;
use procedo_platform::identity::Actor;
use procedo_platform::paging::Page;
use procedo_platform::time::Millis;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::{actor, encode_actor, json, to_json};

/// An action item as kept on the meeting.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ActionItemRow {
    pub description: String,
    pub owner: String,
    pub due_at: Millis,
    pub task_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingRow {
    pub id: String,
    pub department: String,
    pub title: String,
    pub held_at: Millis,
    pub attendees: Vec<String>,
    pub progress: String,
    pub problems: Vec<String>,
    pub action_items: Vec<ActionItemRow>,
    pub recorded_by: Actor,
    pub created_at: Millis,
}

const COLUMNS: &str = "id, department, title, held_at, attendees, progress, problems, action_items, recorded_by, created_at";

#[tracing::instrument(skip_all, fields(meeting.id = %m.id))]
pub async fn insert_meeting(tx: &mut AnyConnection, m: &MeetingRow) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO meetings ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&m.id)
        .bind(&m.department)
        .bind(&m.title)
        .bind(m.held_at)
        .bind(to_json(&m.attendees))
        .bind(&m.progress)
        .bind(to_json(&m.problems))
        .bind(to_json(&m.action_items))
        .bind(encode_actor(&m.recorded_by))
        .bind(m.created_at)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get_meeting(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<MeetingRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM meetings WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(meeting_from_row)
        .transpose()
}

/// Newest first.
#[tracing::instrument(skip_all)]
pub async fn list_meetings(
    db: &Database,
    department: Option<&str>,
    page: &Page,
) -> Result<Vec<MeetingRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM meetings WHERE ($1 = '' OR department = $1) AND ($2 = '' OR id < $2) \
         ORDER BY id DESC LIMIT $3"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(department.unwrap_or(""))
        .bind(page.after.as_deref().unwrap_or(""))
        .bind(page.fetch_limit())
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(meeting_from_row)
        .collect()
}

fn meeting_from_row(row: &AnyRow) -> Result<MeetingRow, sqlx::Error> {
    Ok(MeetingRow {
        id: row.try_get("id")?,
        department: row.try_get("department")?,
        title: row.try_get("title")?,
        held_at: row.try_get("held_at")?,
        attendees: json(row, "attendees")?,
        progress: row.try_get("progress")?,
        problems: json(row, "problems")?,
        action_items: json(row, "action_items")?,
        recorded_by: actor(row, "recorded_by")?,
        created_at: row.try_get("created_at")?,
    })
}
