//! The audit log's tables: the head, the entries, the tree's nodes, the
//! checkpoints and the keys.

use std::collections::HashMap;

use procedo_platform::db::Database;
use procedo_platform::paging::Page;
use procedo_platform::query::{Conditions, bind_all};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::domain::entry::{Entry, EntryActor};
use crate::domain::merkle::{self, Hash, NodeId};

const COLUMNS: &str = "seq, source, source_event_id, source_seq, source_time, logged_at, \
    actor_subject, actor_name, actor_department, action, resource, detail, trace_id";

/// An audit record on its way into the log: an entry but for its place.
#[derive(Debug, Clone, Default)]
pub struct NewEntry {
    pub source: String,
    pub source_event_id: String,
    pub source_seq: u64,
    pub source_time_ms: i64,
    pub actor: EntryActor,
    pub action: String,
    pub resource: String,
    pub detail: String,
    pub trace_id: String,
}

/// A signed tree head as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub tree_size: u64,
    pub root: Hash,
    pub note: String,
    pub key_id: String,
    pub created_at: i64,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn hash_of(row: &AnyRow, column: &str) -> Result<Hash, sqlx::Error> {
    let bytes: Vec<u8> = row.try_get(column)?;
    bytes
        .try_into()
        .map_err(|_| super::corrupt(column, "not 32 bytes"))
}

fn entry_from_row(row: &AnyRow) -> Result<Entry, sqlx::Error> {
    Ok(Entry {
        seq: to_u64(row.try_get("seq")?),
        source: row.try_get("source")?,
        source_event_id: row.try_get("source_event_id")?,
        source_seq: to_u64(row.try_get("source_seq")?),
        source_time_ms: row.try_get("source_time")?,
        logged_at_ms: row.try_get("logged_at")?,
        actor: EntryActor {
            subject: row.try_get("actor_subject")?,
            name: row.try_get("actor_name")?,
            department: row.try_get("actor_department")?,
        },
        action: row.try_get("action")?,
        resource: row.try_get("resource")?,
        detail: row.try_get("detail")?,
        trace_id: row.try_get("trace_id")?,
    })
}

/// Appends `records` to the log in `tx`, in order; the entries as
/// appended. The head row is taken first, so concurrent appends queue and
/// positions have no gaps.
pub async fn append(
    tx: &mut AnyConnection,
    records: Vec<NewEntry>,
    now: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let count = records.len() as u64;
    let head = sqlx::query(
        "UPDATE audit_head SET size = size + $1, \
         last_logged_at = CASE WHEN last_logged_at > $2 THEN last_logged_at ELSE $2 END \
         WHERE id = 1 RETURNING size, last_logged_at",
    )
    .bind(to_i64(count))
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let size = to_u64(head.try_get("size")?);
    let logged_at: i64 = head.try_get("last_logged_at")?;
    let start = size - count;

    let frontier = merkle::frontier(start);
    let known = nodes(tx, &frontier).await?;
    let edge = frontier
        .iter()
        .map(|id| {
            known
                .get(id)
                .copied()
                .ok_or_else(|| super::corrupt("audit_nodes", &format!("{id:?} is missing")))
        })
        .collect::<Result<Vec<Hash>, _>>()?;
    let entries: Vec<Entry> = records
        .into_iter()
        .enumerate()
        .map(|(i, r)| Entry {
            seq: start + i as u64,
            source: r.source,
            source_event_id: r.source_event_id,
            source_seq: r.source_seq,
            source_time_ms: r.source_time_ms,
            logged_at_ms: logged_at,
            actor: r.actor,
            action: r.action,
            resource: r.resource,
            detail: r.detail,
            trace_id: r.trace_id,
        })
        .collect();
    let leaves: Vec<Hash> = entries.iter().map(Entry::leaf_hash).collect();
    let made = merkle::append(start, &edge, &leaves);

    // The entries in one statement per 40 (13 values each), the new nodes
    // in one per 300: binds stay well inside both backends' limits.
    for chunk in entries.chunks(40) {
        let values = (0..chunk.len())
            .map(|i| {
                let marks: Vec<String> = (1..=13).map(|k| format!("${}", 13 * i + k)).collect();
                format!("({})", marks.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("INSERT INTO audit_entries ({COLUMNS}) VALUES {values}");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in chunk {
            query = query
                .bind(to_i64(e.seq))
                .bind(e.source.clone())
                .bind(e.source_event_id.clone())
                .bind(to_i64(e.source_seq))
                .bind(e.source_time_ms)
                .bind(e.logged_at_ms)
                .bind(e.actor.subject.clone())
                .bind(e.actor.name.clone())
                .bind(e.actor.department.clone())
                .bind(e.action.clone())
                .bind(e.resource.clone())
                .bind(e.detail.clone())
                .bind(e.trace_id.clone());
        }
        query.execute(&mut *tx).await?;
    }
    for chunk in made.chunks(300) {
        let values = (0..chunk.len())
            .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("INSERT INTO audit_nodes (level, idx, hash) VALUES {values}");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (id, hash) in chunk {
            query = query
                .bind(i64::from(id.level))
                .bind(to_i64(id.index))
                .bind(hash.to_vec());
        }
        query.execute(&mut *tx).await?;
    }
    Ok(entries)
}

/// The hashes of `ids` that are stored.
pub async fn nodes(
    conn: &mut AnyConnection,
    ids: &[NodeId],
) -> Result<HashMap<NodeId, Hash>, sqlx::Error> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(300) {
        let wanted = (0..chunk.len())
            .map(|i| format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2))
            .collect::<Vec<_>>()
            .join(" OR ");
        let sql = format!("SELECT level, idx, hash FROM audit_nodes WHERE {wanted}");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(i64::from(id.level)).bind(to_i64(id.index));
        }
        for row in query.fetch_all(&mut *conn).await? {
            let id = NodeId {
                level: u32::try_from(row.try_get::<i64, _>("level")?).unwrap_or(u32::MAX),
                index: to_u64(row.try_get("idx")?),
            };
            found.insert(id, hash_of(&row, "hash")?);
        }
    }
    Ok(found)
}

/// The nodes completed by entries `from..to`, every level: what
/// [`crate::domain::merkle::Frontier`] recomputes as it reads them.
pub async fn nodes_completed_by(
    conn: &mut AnyConnection,
    from: u64,
    to: u64,
) -> Result<HashMap<NodeId, Hash>, sqlx::Error> {
    // Node (level, idx) is completed by entry (idx + 1) * 2^level - 1.
    let mut clauses = Vec::new();
    let mut binds = Vec::new();
    for level in 0..64u32 {
        let width = 1u64 << level;
        if width > to {
            break;
        }
        let first = (from + 1).div_ceil(width).saturating_sub(1);
        let last = (to / width).saturating_sub(1);
        if to / width == 0 || first > last {
            continue;
        }
        let n = binds.len();
        clauses.push(format!(
            "(level = ${} AND idx >= ${} AND idx <= ${})",
            n + 1,
            n + 2,
            n + 3
        ));
        binds.extend([i64::from(level), to_i64(first), to_i64(last)]);
    }
    let mut found = HashMap::new();
    if clauses.is_empty() {
        return Ok(found);
    }
    let sql = format!(
        "SELECT level, idx, hash FROM audit_nodes WHERE {}",
        clauses.join(" OR ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in binds {
        query = query.bind(b);
    }
    for row in query.fetch_all(&mut *conn).await? {
        let id = NodeId {
            level: u32::try_from(row.try_get::<i64, _>("level")?).unwrap_or(u32::MAX),
            index: to_u64(row.try_get("idx")?),
        };
        found.insert(id, hash_of(&row, "hash")?);
    }
    Ok(found)
}

/// How many entries the log has.
pub async fn size(conn: &mut AnyConnection) -> Result<u64, sqlx::Error> {
    let size: i64 = sqlx::query_scalar("SELECT size FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    Ok(to_u64(size))
}

/// Entry `seq`.
pub async fn get_entry(conn: &mut AnyConnection, seq: u64) -> Result<Option<Entry>, sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM audit_entries WHERE seq = $1"
    )))
    .bind(to_i64(seq))
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(entry_from_row)
    .transpose()
}

/// Entries from `from` on, in order, at most `limit`.
pub async fn entries_from(
    conn: &mut AnyConnection,
    from: u64,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM audit_entries WHERE seq >= $1 ORDER BY seq LIMIT $2"
    )))
    .bind(to_i64(from))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(entry_from_row)
    .collect()
}

/// What a list of entries keeps; unset filters keep everything.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub resource: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub source: Option<String>,
    pub trace_id: Option<String>,
    /// Source time, from (inclusive) and before (exclusive).
    pub from: Option<i64>,
    pub before: Option<i64>,
    /// Oldest first instead of newest first.
    pub oldest_first: bool,
}

/// Entries `filter` keeps, newest (or oldest) first, a page of them.
pub async fn list_entries(
    db: &Database,
    filter: &EntryFilter,
    page: &Page,
) -> Result<Vec<Entry>, sqlx::Error> {
    let mut c = Conditions::new();
    for (column, value) in [
        ("resource", &filter.resource),
        ("actor_subject", &filter.actor),
        ("action", &filter.action),
        ("source", &filter.source),
        ("trace_id", &filter.trace_id),
    ] {
        if let Some(value) = value {
            let value = c.text(value.clone());
            c.push(format!("{column} = {value}"));
        }
    }
    if let Some(from) = filter.from {
        let from = c.int(from);
        c.push(format!("source_time >= {from}"));
    }
    if let Some(before) = filter.before {
        let before = c.int(before);
        c.push(format!("source_time < {before}"));
    }
    let (after, order) = if filter.oldest_first {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    if let Some(last) = page.after_number() {
        let last = c.int(last);
        c.push(format!("seq {after} {last}"));
    }
    let limit = c.int(page.fetch_limit());
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_entries {} ORDER BY seq {order} LIMIT {limit}",
        c.where_clause()
    );
    bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), c.into_binds())
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(entry_from_row)
        .collect()
}

fn checkpoint_from_row(row: &AnyRow) -> Result<StoredCheckpoint, sqlx::Error> {
    Ok(StoredCheckpoint {
        tree_size: to_u64(row.try_get("tree_size")?),
        root: hash_of(row, "root_hash")?,
        note: row.try_get("note")?,
        key_id: row.try_get("key_id")?,
        created_at: row.try_get("created_at")?,
    })
}

const CHECKPOINT_COLUMNS: &str = "tree_size, root_hash, note, key_id, created_at";

/// Keeps `c` unless a checkpoint of its size exists; the one stored.
pub async fn insert_checkpoint(
    conn: &mut AnyConnection,
    c: &StoredCheckpoint,
) -> Result<StoredCheckpoint, sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_checkpoints (tree_size, root_hash, note, key_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tree_size) DO NOTHING",
    )
    .bind(to_i64(c.tree_size))
    .bind(c.root.to_vec())
    .bind(&c.note)
    .bind(&c.key_id)
    .bind(c.created_at)
    .execute(&mut *conn)
    .await?;
    get_checkpoint(conn, Some(c.tree_size))
        .await?
        .ok_or_else(|| super::corrupt("audit_checkpoints", "the checkpoint just kept is missing"))
}

/// The checkpoint of `size`, or the latest.
pub async fn get_checkpoint(
    conn: &mut AnyConnection,
    size: Option<u64>,
) -> Result<Option<StoredCheckpoint>, sqlx::Error> {
    let row =
        match size {
            Some(size) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE tree_size = $1"
                )))
                .bind(to_i64(size))
                .fetch_optional(&mut *conn)
                .await?
            }
            None => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1"
            )))
            .fetch_optional(&mut *conn)
            .await?,
        };
    row.as_ref().map(checkpoint_from_row).transpose()
}

/// Checkpoints, largest first, a page of them.
pub async fn list_checkpoints(
    db: &Database,
    page: &Page,
) -> Result<Vec<StoredCheckpoint>, sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE tree_size < $1 \
         ORDER BY tree_size DESC LIMIT $2"
    )))
    .bind(page.after_number().unwrap_or(i64::MAX))
    .bind(page.fetch_limit())
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(checkpoint_from_row)
    .collect()
}

/// Every checkpoint, smallest first.
pub async fn all_checkpoints(
    conn: &mut AnyConnection,
) -> Result<Vec<StoredCheckpoint>, sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY tree_size"
    )))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(checkpoint_from_row)
    .collect()
}

/// A key checkpoints are signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub key_id: String,
    pub verifier: String,
    pub active: bool,
    pub created_at: i64,
}

/// Makes `key_id` the active key and keeps every earlier one listed.
pub async fn register_key(
    db: &Database,
    key_id: &str,
    verifier: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE audit_keys SET active = 0 WHERE key_id <> $1 AND active <> 0")
        .bind(key_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO audit_keys (key_id, verifier, active, created_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (key_id) DO UPDATE SET active = 1",
    )
    .bind(key_id)
    .bind(verifier)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Every key, oldest first.
pub async fn keys(conn: &mut AnyConnection) -> Result<Vec<StoredKey>, sqlx::Error> {
    sqlx::query(
        "SELECT key_id, verifier, active, created_at FROM audit_keys ORDER BY created_at, key_id",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(StoredKey {
            key_id: row.try_get("key_id")?,
            verifier: row.try_get("verifier")?,
            active: row.try_get::<i64, _>("active")? != 0,
            created_at: row.try_get("created_at")?,
        })
    })
    .collect()
}
