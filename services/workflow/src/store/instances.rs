use procedo_platform::db::{Backend, Database};
use procedo_platform::error::Error;
use procedo_platform::identity::Actor;
use procedo_platform::time::Millis;
use procedo_platform::writes::Writes;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use super::{actor, corrupt, encode_actor, json, to_json};
use crate::domain::instance::{Instance, InstanceStatus, Money};

const COLUMNS: &str = "id, definition_key, definition_version, business_key, origin, business_type, \
    amount_currency, amount_minor, title, status, initiator_department, initiator, form, participants, \
    approval_chain, matrix_version, plan_document, acceptance_report, acceptance_signatures, \
    cancel_reason, created_at, updated_at, ended_at, version, history_seq";

/// Reads instance `id` for a change, locked: concurrent completions of
/// sibling tasks (a joint review's countersigns) must see each other's
/// results, and its history numbers are handed out from the row read here.
/// PostgreSQL locks the row until commit; SQLite's single writer already
/// serialises every write transaction.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn lock_instance(
    tx: &mut AnyConnection,
    backend: Backend,
    id: &str,
) -> Result<Option<Instance>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM instances WHERE id = $1{}",
        for_update(backend)
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(instance_from_row)
        .transpose()
}

/// The instance of task `task_id`, locked and read as [`lock_instance`]
/// does, in one statement; `None` when the task has no instance (an action
/// item) or does not exist.
#[tracing::instrument(skip_all, fields(task.id = %task_id))]
pub async fn lock_instance_of_task(
    tx: &mut AnyConnection,
    backend: Backend,
    task_id: &str,
) -> Result<Option<Instance>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM instances WHERE id = (SELECT instance_id FROM tasks WHERE id = $1){}",
        for_update(backend)
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(task_id)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(instance_from_row)
        .transpose()
}

fn for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    }
}

/// Locks the instance unless another transaction holds it (PostgreSQL);
/// false when it is held. SQLite's single writer is the lock already.
pub async fn try_lock_instance(
    tx: &mut AnyConnection,
    backend: Backend,
    id: &str,
) -> Result<bool, sqlx::Error> {
    match backend {
        Backend::Postgres => Ok(sqlx::query(
            "SELECT id FROM instances WHERE id = $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .is_some()),
        Backend::Sqlite => Ok(true),
    }
}

/// Columns of an instance row as inserted, in bind order.
const INSERTED: usize = 25;

/// Inserts new instances in one statement; how many were new (an instance
/// whose business key is taken is not inserted).
#[tracing::instrument(skip_all, fields(count = instances.len()))]
pub async fn insert_instances(
    tx: &mut AnyConnection,
    instances: &[Instance],
) -> Result<u64, sqlx::Error> {
    if instances.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "INSERT INTO instances ({COLUMNS}) VALUES {} ON CONFLICT (business_key) DO NOTHING",
        procedo_platform::query::values(Backend::of(tx), instances.len(), INSERTED)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for i in instances {
        query = query
            .bind(&i.id)
            .bind(&i.definition_key)
            .bind(i64::from(i.definition_version))
            .bind(&i.business_key)
            .bind(&i.origin)
            .bind(&i.business_type)
            .bind(i.amount.as_ref().map(|m| m.currency.clone()))
            .bind(i.amount.as_ref().map(|m| m.minor_units))
            .bind(&i.title)
            .bind(i.status.as_str())
            .bind(&i.initiator_department)
            .bind(encode_actor(&i.initiator))
            .bind(to_json(&i.form))
            .bind(to_json(&i.participants))
            .bind(to_json(&i.approval_chain))
            .bind(i64::from(i.matrix_version))
            .bind(&i.plan_document)
            .bind(&i.acceptance_report)
            .bind(to_json(&i.acceptance_signatures))
            .bind(&i.cancel_reason)
            .bind(i.created_at)
            .bind(i.updated_at)
            .bind(i.ended_at)
            .bind(i.version)
            .bind(i.history_seq);
    }
    Ok(query.execute(&mut *tx).await?.rows_affected())
}

/// Writes every mutable field, if the row is still at `read_version` and
/// its history at `read_history` (a history entry appended behind the
/// read's back would otherwise get a number twice); a conflict on the
/// instance otherwise.
pub fn update_instance(writes: &mut Writes, i: &Instance, read_version: i64, read_history: i64) {
    writes
        .push_versioned(
            "UPDATE instances SET status = $1, form = $2, participants = $3, approval_chain = $4, \
             matrix_version = $5, plan_document = $6, acceptance_report = $7, acceptance_signatures = $8, \
             cancel_reason = $9, updated_at = $10, ended_at = $11, version = $12, history_seq = $13 \
             WHERE id = $14 AND version = $15 AND history_seq = $16"
                .to_owned(),
            &i.resource(),
        )
        .bind(i.status.as_str())
        .bind(to_json(&i.form))
        .bind(to_json(&i.participants))
        .bind(to_json(&i.approval_chain))
        .bind(i64::from(i.matrix_version))
        .bind(&i.plan_document)
        .bind(&i.acceptance_report)
        .bind(to_json(&i.acceptance_signatures))
        .bind(&i.cancel_reason)
        .bind(i.updated_at)
        .bind(i.ended_at)
        .bind(i.version)
        .bind(i.history_seq)
        .bind(&i.id)
        .bind(read_version)
        .bind(read_history);
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get_instance(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Instance>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM instances WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(instance_from_row)
        .transpose()
}

#[tracing::instrument(skip_all)]
pub async fn find_by_business_key(
    conn: &mut AnyConnection,
    business_key: &str,
) -> Result<Option<Instance>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM instances WHERE business_key = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(business_key)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(instance_from_row)
        .transpose()
}

#[derive(Debug, Clone, Default)]
pub struct InstanceFilter {
    pub status: Option<InstanceStatus>,
    pub process_key: Option<String>,
    pub department: Option<String>,
    pub business_key: Option<String>,
    /// Only those with an open task past due at this time.
    pub overdue_at: Option<Millis>,
}

/// Newest first, before `before`, at most `limit`.
#[tracing::instrument(skip_all)]
pub async fn list_instances(
    db: &Database,
    f: &InstanceFilter,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<Instance>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM instances i WHERE ($1 = '' OR status = $1) AND ($2 = '' OR definition_key = $2) \
         AND ($3 = '' OR initiator_department = $3) AND ($4 = '' OR business_key = $4) \
         AND ($5 = 0 OR EXISTS (SELECT 1 FROM tasks t WHERE t.instance_id = i.id AND t.status = 'OPEN' AND t.due_at < $5)) \
         AND ($6 = '' OR id < $6) ORDER BY id DESC LIMIT $7"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(f.status.map(InstanceStatus::as_str).unwrap_or(""))
        .bind(f.process_key.as_deref().unwrap_or(""))
        .bind(f.department.as_deref().unwrap_or(""))
        .bind(f.business_key.as_deref().unwrap_or(""))
        .bind(f.overdue_at.unwrap_or(0))
        .bind(before.unwrap_or(""))
        .bind(limit)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(instance_from_row)
        .collect()
}

fn instance_from_row(row: &AnyRow) -> Result<Instance, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let currency: Option<String> = row.try_get("amount_currency")?;
    let minor: Option<i64> = row.try_get("amount_minor")?;
    Ok(Instance {
        id: row.try_get("id")?,
        definition_key: row.try_get("definition_key")?,
        definition_version: i32::try_from(row.try_get::<i64, _>("definition_version")?)
            .unwrap_or(0),
        business_key: row.try_get("business_key")?,
        origin: row.try_get("origin")?,
        business_type: row.try_get("business_type")?,
        amount: currency.zip(minor).map(|(currency, minor_units)| Money {
            currency,
            minor_units,
        }),
        title: row.try_get("title")?,
        status: InstanceStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        initiator_department: row.try_get("initiator_department")?,
        initiator: actor(row, "initiator")?,
        form: json(row, "form")?,
        participants: json(row, "participants")?,
        approval_chain: json(row, "approval_chain")?,
        matrix_version: i32::try_from(row.try_get::<i64, _>("matrix_version")?).unwrap_or(0),
        plan_document: row.try_get("plan_document")?,
        acceptance_report: row.try_get("acceptance_report")?,
        acceptance_signatures: json(row, "acceptance_signatures")?,
        cancel_reason: row.try_get("cancel_reason")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        ended_at: row.try_get("ended_at")?,
        version: row.try_get("version")?,
        history_seq: row.try_get("history_seq")?,
    })
}

/// One history entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub seq: i64,
    pub instance_id: String,
    pub action: String,
    pub step: String,
    pub decision: String,
    pub opinion: String,
    pub detail: String,
    pub actor: Actor,
    pub task_id: String,
    pub at: Millis,
}

/// What to record.
#[derive(Debug, Clone, Default)]
pub struct NewHistory<'a> {
    pub action: &'a str,
    pub step: &'a str,
    pub decision: &'a str,
    pub opinion: &'a str,
    pub detail: String,
    pub task_id: &'a str,
}

/// Appends to the instance's history; returns the entry's sequence number
/// (a step entry's number identifies that visit of the step).
#[tracing::instrument(skip_all, fields(instance.id = %instance_id))]
pub async fn append_history(
    tx: &mut AnyConnection,
    instance_id: &str,
    entry: NewHistory<'_>,
    who: &Actor,
    at: Millis,
) -> Result<i64, Error> {
    // The instance row hands out positions: concurrent writers of one
    // instance's history queue on it (on PostgreSQL; SQLite has one writer).
    let seq: i64 = sqlx::query_scalar(
        "UPDATE instances SET history_seq = history_seq + 1 WHERE id = $1 RETURNING history_seq",
    )
    .bind(instance_id)
    .fetch_one(&mut *tx)
    .await?;
    HistoryBatch {
        rows: vec![QueuedEntry::new(seq, entry, who, at)],
    }
    .write(tx, instance_id)
    .await?;
    Ok(seq)
}

/// The history entries of one change to an instance, numbered from its
/// locked row ([`Instance::history_seq`]) as they are added and written in
/// one statement when the change is saved ([`update_instance`] keeps the
/// count).
#[derive(Debug, Default)]
pub struct HistoryBatch {
    rows: Vec<QueuedEntry>,
}

#[derive(Debug)]
struct QueuedEntry {
    seq: i64,
    action: String,
    step: String,
    decision: String,
    opinion: String,
    detail: String,
    actor: Vec<u8>,
    task_id: String,
    at: Millis,
}

impl QueuedEntry {
    fn new(seq: i64, entry: NewHistory<'_>, who: &Actor, at: Millis) -> QueuedEntry {
        QueuedEntry {
            seq,
            action: entry.action.to_owned(),
            step: entry.step.to_owned(),
            decision: entry.decision.to_owned(),
            opinion: entry.opinion.to_owned(),
            detail: entry.detail,
            actor: encode_actor(who),
            task_id: entry.task_id.to_owned(),
            at,
        }
    }
}

impl HistoryBatch {
    /// Adds `entry` to `instance`'s history; the entry's sequence number.
    pub fn push(
        &mut self,
        instance: &mut Instance,
        entry: NewHistory<'_>,
        who: &Actor,
        at: Millis,
    ) -> i64 {
        instance.history_seq += 1;
        self.rows
            .push(QueuedEntry::new(instance.history_seq, entry, who, at));
        instance.history_seq
    }

    /// Writes the entries of instance `instance_id`, in one statement.
    pub async fn write(self, tx: &mut AnyConnection, instance_id: &str) -> Result<(), Error> {
        let mut writes = Writes::new(Backend::of(tx));
        self.push_into(&mut writes, instance_id);
        writes.run(tx).await
    }

    /// Adds the statement writing the entries of instance `instance_id` to
    /// `writes`.
    pub fn push_into(self, writes: &mut Writes, instance_id: &str) {
        if self.rows.is_empty() {
            return;
        }
        let sql = format!(
            "INSERT INTO history (instance_id, seq, action, step, decision, opinion, detail, actor, task_id, at) \
             VALUES {}",
            procedo_platform::query::values(writes.backend(), self.rows.len(), 10)
        );
        let write = writes.push(sql);
        for row in self.rows {
            write
                .bind(instance_id)
                .bind(row.seq)
                .bind(row.action)
                .bind(row.step)
                .bind(row.decision)
                .bind(row.opinion)
                .bind(row.detail)
                .bind(row.actor)
                .bind(row.task_id)
                .bind(row.at);
        }
    }
}

/// Entries after `after`, oldest first, at most `limit`.
#[tracing::instrument(skip_all, fields(instance.id = %instance_id))]
pub async fn history_after(
    db: &Database,
    instance_id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    sqlx::query(
        "SELECT instance_id, seq, action, step, decision, opinion, detail, actor, task_id, at FROM history \
         WHERE instance_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(instance_id)
    .bind(after)
    .bind(limit)
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(|row| {
        Ok(HistoryRow {
            seq: row.try_get("seq")?,
            instance_id: row.try_get("instance_id")?,
            action: row.try_get("action")?,
            step: row.try_get("step")?,
            decision: row.try_get("decision")?,
            opinion: row.try_get("opinion")?,
            detail: row.try_get("detail")?,
            actor: actor(row, "actor")?,
            task_id: row.try_get("task_id")?,
            at: row.try_get("at")?,
        })
    })
    .collect()
}

/// A coordination item (§3.2.4, §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoordinationRow {
    pub id: String,
    pub problem: String,
    pub responsible_department: String,
    pub resolution: String,
    pub resolved: bool,
    pub raised_by: Actor,
    pub created_at: Millis,
    pub resolved_at: Option<Millis>,
}

#[tracing::instrument(skip_all)]
pub async fn insert_coordination(
    tx: &mut AnyConnection,
    instance_id: Option<&str>,
    meeting_id: Option<&str>,
    problem: &str,
    responsible_department: &str,
    raised_by: &Actor,
    now: Millis,
) -> Result<String, sqlx::Error> {
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO coordination_items (id, instance_id, meeting_id, problem, responsible_department, \
         resolution, resolved, raised_by, created_at) VALUES ($1, $2, $3, $4, $5, '', 0, $6, $7)",
    )
    .bind(&id)
    .bind(instance_id)
    .bind(meeting_id)
    .bind(problem)
    .bind(responsible_department)
    .bind(encode_actor(raised_by))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

/// Marks an item resolved; false when the instance has no such open item.
#[tracing::instrument(skip_all, fields(id = %id, instance.id = %instance_id))]
pub async fn resolve_coordination(
    tx: &mut AnyConnection,
    instance_id: &str,
    id: &str,
    resolution: &str,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE coordination_items SET resolution = $1, resolved = 1, resolved_at = $2 \
         WHERE id = $3 AND instance_id = $4 AND resolved = 0",
    )
    .bind(resolution)
    .bind(now)
    .bind(id)
    .bind(instance_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// `$1, $2, …` for `n` values.
fn marks(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whose coordination items a batch read takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoordinationOf {
    Instances,
    Meetings,
}

/// The coordination items of each of `ids` (instances' or meetings'),
/// oldest first, with the id they belong to: one statement for a page.
#[tracing::instrument(skip_all)]
pub async fn coordination_of(
    conn: &mut AnyConnection,
    of: CoordinationOf,
    ids: &[String],
) -> Result<Vec<(String, CoordinationRow)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let owner = match of {
        CoordinationOf::Instances => "instance_id",
        CoordinationOf::Meetings => "meeting_id",
    };
    let sql = format!(
        "SELECT {owner} AS owner, id, problem, responsible_department, resolution, resolved, \
         raised_by, created_at, resolved_at FROM coordination_items WHERE {owner} IN ({}) ORDER BY id",
        marks(ids.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(id);
    }
    query
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("owner")?, coordination_from_row(row)?)))
        .collect()
}

/// The supervision visits of each of `instance_ids`, oldest first.
#[tracing::instrument(skip_all)]
pub async fn supervision_of_instances(
    conn: &mut AnyConnection,
    instance_ids: &[String],
) -> Result<Vec<(String, SupervisionRow)>, sqlx::Error> {
    if instance_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT instance_id, department, findings, supervisor, at FROM supervision_records \
         WHERE instance_id IN ({}) ORDER BY id",
        marks(instance_ids.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in instance_ids {
        query = query.bind(id);
    }
    query
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("instance_id")?, supervision_from_row(row)?)))
        .collect()
}

fn coordination_from_row(row: &AnyRow) -> Result<CoordinationRow, sqlx::Error> {
    Ok(CoordinationRow {
        id: row.try_get("id")?,
        problem: row.try_get("problem")?,
        responsible_department: row.try_get("responsible_department")?,
        resolution: row.try_get("resolution")?,
        resolved: row.try_get::<i64, _>("resolved")? != 0,
        raised_by: actor(row, "raised_by")?,
        created_at: row.try_get("created_at")?,
        resolved_at: row.try_get("resolved_at")?,
    })
}

fn supervision_from_row(row: &AnyRow) -> Result<SupervisionRow, sqlx::Error> {
    Ok(SupervisionRow {
        department: row.try_get("department")?,
        findings: row.try_get("findings")?,
        supervisor: actor(row, "supervisor")?,
        at: row.try_get("at")?,
    })
}

/// The items of an instance or a meeting, oldest first.
#[tracing::instrument(skip_all)]
pub async fn coordination_items(
    conn: &mut AnyConnection,
    instance_id: Option<&str>,
    meeting_id: Option<&str>,
) -> Result<Vec<CoordinationRow>, sqlx::Error> {
    sqlx::query(
        "SELECT id, problem, responsible_department, resolution, resolved, raised_by, created_at, resolved_at \
         FROM coordination_items WHERE instance_id = $1 OR meeting_id = $2 ORDER BY id",
    )
    .bind(instance_id.unwrap_or("-"))
    .bind(meeting_id.unwrap_or("-"))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(coordination_from_row)
    .collect()
}

/// A supervision visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisionRow {
    pub department: String,
    pub findings: String,
    pub supervisor: Actor,
    pub at: Millis,
}

#[tracing::instrument(skip_all, fields(instance.id = %instance_id))]
pub async fn insert_supervision(
    tx: &mut AnyConnection,
    instance_id: &str,
    findings: &str,
    supervisor: &Actor,
    now: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO supervision_records (id, instance_id, department, findings, supervisor, at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(instance_id)
    .bind(&supervisor.department)
    .bind(findings)
    .bind(encode_actor(supervisor))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
