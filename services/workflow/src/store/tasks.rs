use std::collections::HashMap;

use procedo_platform::calendar::Limit;
use procedo_platform::db::{Backend, Database};
use procedo_platform::deadline::Deadline;
use procedo_platform::time::Millis;
use procedo_platform::writes::Writes;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::{corrupt, json, to_json};
use crate::domain::definition::{Decision, StepKind};
use crate::domain::task::{StepWork, Task, TaskStatus, Work};

const COLUMNS: &str = "id, instance_id, meeting_id, step, visit, kind, title, content, standard, role, \
    department, approval_level, chain_index, assignee, delegated_by, status, due_at, overdue_at, \
    escalated_at, decision, opinion, signature, document, requirements, rectification_deadline, \
    prior_opinions, created_at, completed_at, version, deadline, rectification_limit";

/// Columns of a task row as inserted, in bind order.
const INSERTED: usize = 31;

/// Inserts new tasks, in one statement.
pub fn insert_tasks(writes: &mut Writes, tasks: &[Task]) {
    if tasks.is_empty() {
        return;
    }
    let sql = format!(
        "INSERT INTO tasks ({COLUMNS}) VALUES {}",
        procedo_platform::query::values(writes.backend(), tasks.len(), INSERTED)
    );
    let write = writes.push(sql);
    for t in tasks {
        write
            .bind(&t.id)
            .bind(t.instance_id())
            .bind(match &t.work {
                Work::ActionItem { meeting_id } => Some(meeting_id.as_str()),
                Work::Step(_) => None,
            })
            .bind(t.step_id())
            .bind(t.step_work().map_or(0, |w| w.visit))
            .bind(t.step_work().map_or("", |w| w.kind.as_str()))
            .bind(&t.title)
            .bind(&t.content)
            .bind(to_json(&t.standard))
            .bind(&t.role)
            .bind(&t.department)
            .bind(i64::from(t.approval_level))
            .bind(i64::from(t.step_work().map_or(0, |w| w.chain_index)))
            .bind(&t.assignee)
            .bind(&t.delegated_by)
            .bind(t.status.as_str())
            .bind(t.deadline.due)
            .bind(t.overdue_at)
            .bind(t.escalated_at)
            .bind(t.decision.map(Decision::as_str).unwrap_or(""))
            .bind(&t.opinion)
            .bind(to_json(&t.signature))
            .bind(&t.document)
            .bind(to_json(&t.requirements))
            .bind(t.rectification_deadline)
            .bind(to_json(&t.prior_opinions))
            .bind(t.created_at)
            .bind(t.completed_at)
            .bind(t.version)
            .bind(to_json(&t.deadline))
            .bind(limit_text(t.rectification_limit));
    }
}

/// Writes a task's changing fields, if it is still at `read_version` (a
/// conflict on the task otherwise).
pub fn update_task(writes: &mut Writes, t: &Task, read_version: i64) {
    writes
        .push_versioned(
            "UPDATE tasks SET assignee = $1, delegated_by = $2, status = $3, decision = $4, opinion = $5, \
         signature = $6, document = $7, requirements = $8, rectification_deadline = $9, completed_at = $10, \
         version = $11, due_at = $14, deadline = $15, rectification_limit = $16 \
         WHERE id = $12 AND version = $13"
                .to_owned(),
            &t.resource(),
        )
    .bind(&t.assignee)
    .bind(&t.delegated_by)
    .bind(t.status.as_str())
    .bind(t.decision.map(Decision::as_str).unwrap_or(""))
    .bind(&t.opinion)
    .bind(to_json(&t.signature))
    .bind(&t.document)
    .bind(to_json(&t.requirements))
    .bind(t.rectification_deadline)
    .bind(t.completed_at)
    .bind(t.version)
    .bind(&t.id)
    .bind(read_version)
    .bind(t.deadline.due)
    .bind(to_json(&t.deadline))
    .bind(limit_text(t.rectification_limit));
}

fn limit_text(limit: Option<Limit>) -> String {
    limit.map(|l| l.to_string()).unwrap_or_default()
}

/// The task's clock; tasks kept before clocks were read as an elapsed
/// limit from creation to their due time.
fn deadline_from_row(row: &AnyRow, completed_at: Option<Millis>) -> Result<Deadline, sqlx::Error> {
    let text: String = row.try_get("deadline")?;
    if text.is_empty() {
        let created: Millis = row.try_get("created_at")?;
        return Ok(Deadline::recorded(
            created,
            row.try_get("due_at")?,
            completed_at,
        ));
    }
    let mut deadline: Deadline =
        serde_json::from_str(&text).map_err(|_| corrupt("deadline", &text))?;
    // A task cancelled with its instance ends its clock where it ended.
    if let Some(at) = completed_at {
        let _ = deadline.meet(at);
    }
    Ok(deadline)
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get_task(conn: &mut AnyConnection, id: &str) -> Result<Option<Task>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM tasks WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(task_from_row)
        .transpose()
}

/// Task `id` and, when it is a step task, every task of its round (the
/// tasks the same entry into its step opened), in one statement.
#[tracing::instrument(skip_all, fields(task.id = %id))]
pub async fn task_with_round(conn: &mut AnyConnection, id: &str) -> Result<Vec<Task>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM tasks WHERE id = $1 OR (instance_id, step, visit) = \
         (SELECT instance_id, step, visit FROM tasks WHERE id = $1) ORDER BY id"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(task_from_row)
        .collect()
}

/// Every task of an instance, oldest first.
#[tracing::instrument(skip_all, fields(instance.id = %instance_id))]
pub async fn instance_tasks(
    conn: &mut AnyConnection,
    instance_id: &str,
) -> Result<Vec<Task>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM tasks WHERE instance_id = $1 ORDER BY id");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(instance_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(task_from_row)
        .collect()
}

/// The tasks of each of `instance_ids`: one statement for a page of
/// instances.
#[tracing::instrument(skip_all)]
pub async fn tasks_of_instances(
    conn: &mut AnyConnection,
    instance_ids: &[String],
) -> Result<Vec<Task>, sqlx::Error> {
    if instance_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=instance_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM tasks WHERE instance_id IN ({}) ORDER BY id",
        marks.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in instance_ids {
        query = query.bind(id);
    }
    query
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(task_from_row)
        .collect()
}

/// Open tasks by id after `after`: what a calendar change may move.
#[tracing::instrument(skip_all)]
pub async fn open_tasks(
    conn: &mut AnyConnection,
    after: &str,
    limit: i64,
) -> Result<Vec<Task>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM tasks WHERE status = 'OPEN' AND id > $1 ORDER BY id LIMIT $2"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(task_from_row)
        .collect()
}

/// Cancels every open task of an instance but those in `except` (tasks
/// the same writes change otherwise).
pub fn cancel_open_tasks(writes: &mut Writes, instance_id: &str, now: Millis, except: &[&str]) {
    let mut sql = String::from(
        "UPDATE tasks SET status = 'CANCELLED', completed_at = $1, version = version + 1 \
         WHERE instance_id = $2 AND status = 'OPEN'",
    );
    for i in 0..except.len() {
        sql.push_str(&format!(" AND id <> ${}", i + 3));
    }
    let write = writes.push(sql);
    write.bind(now).bind(instance_id);
    for id in except {
        write.bind(*id);
    }
}

/// Which tasks to read for a list.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Narrows to the rows a limited viewer might see, so the index finds
    /// them; `domain::visibility::Scope` decides exactly which they see.
    /// `None`: every row.
    pub viewer: Option<ViewerRows>,
    pub assignee: Option<String>,
    pub department: Option<String>,
    pub instance_id: Option<String>,
    pub status: Option<TaskStatus>,
    /// Only open tasks due in `[from, to)`: past due (`(MIN, now)`) or
    /// due soon (`(now, now + while)`).
    pub due_between: Option<(Millis, Millis)>,
    /// Narrows to the open rows this person might act on: assigned to
    /// them, or unclaimed for one of their roles in their department (or
    /// for no role or department in particular).
    pub actionable_by: Option<ViewerRows>,
}

/// The rows a limited viewer might see: assigned to or delegated by them,
/// of their department, or open, unassigned and for one of their roles.
#[derive(Debug, Clone, Default)]
pub struct ViewerRows {
    pub subject: String,
    pub department: String,
    pub roles: Vec<String>,
}

/// Oldest first, after `after`, at most `limit`.
///
/// A limited viewer's rows, and a work queue's, are several alternatives
/// (assigned to them, of their department, free for one of their roles…).
/// Each is read as a branch of its own off an index in id order, at most
/// `limit` rows each, and the branches merged: one `OR` across them would
/// have the database walk every task in id order looking for a page.
#[tracing::instrument(skip_all)]
pub async fn list_tasks(
    db: &Database,
    f: &TaskFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Task>, sqlx::Error> {
    let mut conditions = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let bind = |value: &str, binds: &mut Vec<String>| {
        binds.push(value.to_owned());
        format!("${}", binds.len())
    };
    // Each branch is one alternative; a row is listed when it meets the
    // common conditions and any branch.
    let mut branches: Vec<String> = Vec::new();
    if let Some(v) = &f.actionable_by {
        // Assigned to them, or unclaimed for one of their roles (or none)
        // in their department (or none).
        let subject = bind(&v.subject, &mut binds);
        branches.push(format!("status = 'OPEN' AND assignee = {subject}"));
        let departments = [bind(&v.department, &mut binds), bind("", &mut binds)];
        let roles: Vec<String> = v
            .roles
            .iter()
            .map(String::as_str)
            .chain([""])
            .map(|r| bind(r, &mut binds))
            .collect();
        for role in &roles {
            for department in &departments {
                branches.push(format!(
                    "status = 'OPEN' AND assignee = '' AND role = {role} AND department = {department}"
                ));
            }
        }
    } else if let Some(v) = &f.viewer {
        // What `Scope::sees_task` lets them see: theirs, delegated by
        // them, their department's, and what they may act on elsewhere —
        // which is only unclaimed tasks of no department.
        let subject = bind(&v.subject, &mut binds);
        branches.push(format!("assignee = {subject}"));
        branches.push(format!("delegated_by = {subject}"));
        if !v.department.is_empty() {
            branches.push(format!("department = {}", bind(&v.department, &mut binds)));
        }
        let none = bind("", &mut binds);
        for role in v.roles.iter().map(String::as_str).chain([""]) {
            let role = bind(role, &mut binds);
            branches.push(format!(
                "status = 'OPEN' AND assignee = '' AND role = {role} AND department = {none}"
            ));
        }
    }
    for (column, value) in [
        ("assignee", f.assignee.as_deref()),
        ("department", f.department.as_deref()),
        ("instance_id", f.instance_id.as_deref()),
    ] {
        if let Some(value) = value {
            conditions.push(format!("{column} = {}", bind(value, &mut binds)));
        }
    }
    if let Some(status) = f.status {
        // A constant of ours, written in so the planner can use the
        // partial indexes of open tasks.
        conditions.push(format!("status = '{}'", status.as_str()));
    }
    if let Some(after) = after {
        conditions.push(format!("id > {}", bind(after, &mut binds)));
    }
    let mut at = binds.len();
    if f.due_between.is_some() {
        conditions.push(format!(
            "status = 'OPEN' AND due_at >= ${} AND due_at < ${}",
            at + 1,
            at + 2
        ));
        at += 2;
    }
    let limit_at = at + 1;
    let filter = |extra: Option<&str>| {
        let all: Vec<&str> = conditions.iter().map(String::as_str).chain(extra).collect();
        if all.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", all.join(" AND "))
        }
    };
    let sql = if branches.is_empty() {
        format!(
            "SELECT {COLUMNS} FROM tasks{} ORDER BY id LIMIT ${limit_at}",
            filter(None)
        )
    } else {
        let ids: Vec<String> = branches
            .iter()
            .enumerate()
            .map(|(n, branch)| {
                format!(
                    "SELECT id FROM (SELECT id FROM tasks{} ORDER BY id LIMIT ${limit_at}) AS b{n}",
                    filter(Some(branch))
                )
            })
            .collect();
        format!(
            "SELECT {COLUMNS} FROM tasks WHERE id IN ({}) ORDER BY id LIMIT ${limit_at}",
            ids.join(" UNION ")
        )
    };
    // Every value is bound; only column names and placeholders are formatted in.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for value in &binds {
        query = query.bind(value.as_str());
    }
    if let Some((from, to)) = f.due_between {
        query = query.bind(from).bind(to);
    }
    query
        .bind(limit)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(task_from_row)
        .collect()
}

/// Marks open tasks past due as overdue and escalated, each exactly once
/// however many replicas sweep at the same time, and returns them.
///
/// Each task's instance is locked before the task, the order every change
/// of an instance takes (so a sweep and a completion never deadlock, and
/// the sweep's history entries queue behind the completion's). An instance
/// another call is changing is skipped; the next sweep takes it. The update
/// only takes rows not yet marked, so a task two sweeps reach is marked by
/// the first.
#[tracing::instrument(skip_all)]
pub async fn mark_overdue(
    tx: &mut AnyConnection,
    backend: Backend,
    now: Millis,
    limit: i64,
) -> Result<Vec<Task>, sqlx::Error> {
    let candidates = sqlx::query(
        "SELECT id, instance_id FROM tasks WHERE status = 'OPEN' AND overdue_at IS NULL \
         AND due_at < $1 ORDER BY due_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|row| Ok((row.try_get("id")?, row.try_get("instance_id")?)))
    .collect::<Result<Vec<(String, Option<String>)>, sqlx::Error>>()?;
    let mut held: HashMap<String, bool> = HashMap::new();
    let mut marked = Vec::new();
    let mark = format!(
        "UPDATE tasks SET overdue_at = $1, escalated_at = $1 \
         WHERE id = $2 AND status = 'OPEN' AND overdue_at IS NULL RETURNING {COLUMNS}"
    );
    for (id, instance) in candidates {
        if let Some(instance) = instance {
            let locked = match held.get(&instance) {
                Some(locked) => *locked,
                None => {
                    let locked = super::try_lock_instance(tx, backend, &instance).await?;
                    held.insert(instance, locked);
                    locked
                }
            };
            if !locked {
                continue;
            }
        }
        if let Some(row) = sqlx::query(sqlx::AssertSqlSafe(mark.as_str()))
            .bind(now)
            .bind(&id)
            .fetch_optional(&mut *tx)
            .await?
        {
            marked.push(task_from_row(&row)?);
        }
    }
    Ok(marked)
}

fn task_from_row(row: &AnyRow) -> Result<Task, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let decision: String = row.try_get("decision")?;
    let instance_id: Option<String> = row.try_get("instance_id")?;
    let meeting_id: Option<String> = row.try_get("meeting_id")?;
    let work = match (instance_id, meeting_id) {
        (Some(instance_id), _) => {
            let kind: String = row.try_get("kind")?;
            Work::Step(StepWork {
                instance_id,
                step: row.try_get("step")?,
                visit: row.try_get("visit")?,
                kind: StepKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
                chain_index: i32::try_from(row.try_get::<i64, _>("chain_index")?).unwrap_or(0),
            })
        }
        (None, Some(meeting_id)) => Work::ActionItem { meeting_id },
        (None, None) => return Err(corrupt("instance_id", "")),
    };
    Ok(Task {
        id: row.try_get("id")?,
        work,
        title: row.try_get("title")?,
        content: row.try_get("content")?,
        standard: json(row, "standard")?,
        role: row.try_get("role")?,
        department: row.try_get("department")?,
        approval_level: i32::try_from(row.try_get::<i64, _>("approval_level")?).unwrap_or(0),
        assignee: row.try_get("assignee")?,
        delegated_by: row.try_get("delegated_by")?,
        status: TaskStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        deadline: deadline_from_row(row, row.try_get("completed_at")?)?,
        overdue_at: row.try_get("overdue_at")?,
        escalated_at: row.try_get("escalated_at")?,
        decision: Decision::parse(&decision),
        opinion: row.try_get("opinion")?,
        signature: json(row, "signature")?,
        document: row.try_get("document")?,
        requirements: json(row, "requirements")?,
        rectification_deadline: row.try_get("rectification_deadline")?,
        rectification_limit: {
            let text: String = row.try_get("rectification_limit")?;
            if text.is_empty() {
                None
            } else {
                Some(Limit::parse(&text).map_err(|_| corrupt("rectification_limit", &text))?)
            }
        },
        prior_opinions: json(row, "prior_opinions")?,
        created_at: row.try_get("created_at")?,
        completed_at: row.try_get("completed_at")?,
        version: row.try_get("version")?,
    })
}
