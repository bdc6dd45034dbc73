//! The writes of one use case, gathered as it decides and sent together
//! when it is ready to commit: on PostgreSQL as one statement (each write a
//! data-modifying `WITH` clause), on SQLite — in process, where a statement
//! costs no round trip — one after another. A completion that updates its
//! task and its instance, cancels the instance's other open tasks, and adds
//! history and events pays one round trip for all of it, not five.
//!
//! On PostgreSQL every write of one batch sees the database as it was
//! before the batch (they share one snapshot), so no write of a batch may
//! depend on another's effect, and no two may change the same row: a
//! later write's conditions exclude the rows an earlier one changes.
//!
//! Each write is written with its own placeholders `$1`, `$2`… (or `?`
//! on SQLite, see [`crate::query::values`]); the batch renumbers them.
//! No write may contain a `$` in a literal.

use sqlx::{AnyConnection, AssertSqlSafe, Row as _};

use crate::db::Backend;
use crate::error::Error;
use crate::query::{Bind, bind_all};

/// Most values PostgreSQL binds to one statement; a batch that would bind
/// more is sent as several statements.
const MAX_BINDS: usize = 65_535;

/// Writes to send together, in order.
#[derive(Debug)]
pub struct Writes {
    backend: Backend,
    writes: Vec<Write>,
}

/// One statement of a batch.
#[derive(Debug)]
pub struct Write {
    sql: String,
    binds: Vec<Bind>,
    /// A versioned update: it must change exactly one row, or the resource
    /// named here changed since it was read.
    versioned: Option<String>,
}

impl Write {
    /// Binds `value` to the write's next placeholder.
    pub fn bind(&mut self, value: impl Into<Bind>) -> &mut Write {
        self.binds.push(value.into());
        self
    }
}

impl Writes {
    pub fn new(backend: Backend) -> Writes {
        Writes {
            backend,
            writes: Vec::new(),
        }
    }

    /// The database the writes are written for.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Adds `sql` (an INSERT, UPDATE or DELETE without RETURNING); bind its
    /// values on the write returned.
    pub fn push(&mut self, sql: String) -> &mut Write {
        self.add(sql, None)
    }

    /// Adds a versioned update of `resource`: when it changes no row, the
    /// whole batch fails with a conflict on `resource`.
    pub fn push_versioned(&mut self, sql: String, resource: &str) -> &mut Write {
        self.add(sql, Some(resource.to_owned()))
    }

    fn add(&mut self, sql: String, versioned: Option<String>) -> &mut Write {
        self.writes.push(Write {
            sql,
            binds: Vec::new(),
            versioned,
        });
        self.writes.last_mut().expect("just pushed")
    }

    /// Sends every write inside the caller's transaction.
    #[tracing::instrument(skip_all, fields(count = self.writes.len()))]
    pub async fn run(self, tx: &mut AnyConnection) -> Result<(), Error> {
        match self.backend {
            Backend::Sqlite => {
                for write in self.writes {
                    run_one(tx, write).await?;
                }
            }
            Backend::Postgres => {
                for group in groups(self.writes) {
                    run_together(tx, group).await?;
                }
            }
        }
        Ok(())
    }
}

/// A conflict on `versioned` unless it changed exactly one row.
fn check(versioned: Option<&str>, changed: u64) -> Result<(), Error> {
    match versioned {
        Some(resource) if changed != 1 => Err(Error::Conflict(resource.to_owned())),
        _ => Ok(()),
    }
}

/// `writes` in order, cut where a statement would bind too many values.
fn groups(writes: Vec<Write>) -> Vec<Vec<Write>> {
    let mut groups: Vec<Vec<Write>> = Vec::new();
    let mut bound = 0;
    for write in writes {
        let n = write.binds.len();
        match groups.last_mut() {
            Some(group) if bound + n <= MAX_BINDS => group.push(write),
            _ => {
                bound = 0;
                groups.push(vec![write]);
            }
        }
        bound += n;
    }
    groups
}

/// One write as a statement of its own.
async fn run_one(tx: &mut AnyConnection, write: Write) -> Result<(), Error> {
    let query = bind_all(sqlx::query(AssertSqlSafe(write.sql)), write.binds);
    let changed = query.execute(&mut *tx).await?.rows_affected();
    check(write.versioned.as_deref(), changed)
}

/// One PostgreSQL statement running `group`'s writes.
async fn run_together(tx: &mut AnyConnection, mut group: Vec<Write>) -> Result<(), Error> {
    if group.len() == 1 {
        return run_one(tx, group.pop().expect("one write")).await;
    }
    let (sql, binds, versioned) = together(group);
    let row = bind_all(sqlx::query(AssertSqlSafe(sql)), binds)
        .fetch_one(&mut *tx)
        .await?;
    for (i, resource) in versioned.iter().enumerate() {
        let changed: i64 = row.try_get(i)?;
        check(Some(resource), u64::try_from(changed).unwrap_or(0))?;
    }
    Ok(())
}

/// `WITH w1 AS (…), w2 AS (…) SELECT <rows changed by each versioned
/// write>`, the values it binds, and the resources of the versioned writes
/// in the order their counts come.
fn together(group: Vec<Write>) -> (String, Vec<Bind>, Vec<String>) {
    let mut sql = String::from("WITH ");
    let mut binds = Vec::new();
    let mut counts = Vec::new();
    let mut versioned = Vec::new();
    for (i, write) in group.into_iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let name = format!("w{}", i + 1);
        sql.push_str(&name);
        sql.push_str(" AS (");
        sql.push_str(&shift_placeholders(&write.sql, binds.len()));
        if let Some(resource) = write.versioned {
            sql.push_str(" RETURNING 1");
            counts.push(format!("(SELECT COUNT(*) FROM {name})"));
            versioned.push(resource);
        }
        sql.push(')');
        binds.extend(write.binds);
    }
    sql.push_str(" SELECT ");
    if counts.is_empty() {
        sql.push('1');
    } else {
        sql.push_str(&counts.join(", "));
    }
    (sql, binds, versioned)
}

/// `sql` with every placeholder `$n` renumbered `$(n + by)`.
fn shift_placeholders(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + sql.len() / 8);
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut n = 0usize;
        let mut digits = false;
        while let Some(&(_, d)) = chars.peek() {
            let Some(v) = d.to_digit(10) else { break };
            n = n * 10 + v as usize;
            digits = true;
            chars.next();
        }
        if digits {
            out.push_str(&(n + by).to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(sql: &str, binds: usize, versioned: Option<&str>) -> Write {
        Write {
            sql: sql.to_owned(),
            binds: (0..binds).map(|i| Bind::Int(i as i64)).collect(),
            versioned: versioned.map(str::to_owned),
        }
    }

    #[test]
    fn placeholders_are_renumbered_past_the_earlier_writes() {
        assert_eq!(
            shift_placeholders("UPDATE t SET a = $1, b = $10 WHERE id = $2", 3),
            "UPDATE t SET a = $4, b = $13 WHERE id = $5"
        );
        assert_eq!(shift_placeholders("SELECT $1", 0), "SELECT $1");
    }

    #[test]
    fn a_batch_is_one_statement_that_counts_the_versioned_writes() {
        let group = vec![
            write("UPDATE t SET v = $1 WHERE id = $2", 2, Some("things/1")),
            write("INSERT INTO h (a) VALUES ($1), ($2)", 2, None),
            write("UPDATE u SET v = $1 WHERE id = $2", 2, Some("others/2")),
        ];
        let (sql, binds, versioned) = together(group);
        assert_eq!(
            sql,
            "WITH w1 AS (UPDATE t SET v = $1 WHERE id = $2 RETURNING 1), \
             w2 AS (INSERT INTO h (a) VALUES ($3), ($4)), \
             w3 AS (UPDATE u SET v = $5 WHERE id = $6 RETURNING 1) \
             SELECT (SELECT COUNT(*) FROM w1), (SELECT COUNT(*) FROM w3)"
        );
        assert_eq!(binds.len(), 6);
        assert_eq!(versioned, ["things/1", "others/2"]);
    }

    #[test]
    fn a_batch_binding_too_many_values_is_cut_into_statements() {
        let writes = vec![
            write("a", 40_000, None),
            write("b", 20_000, None),
            write("c", 10_000, None),
            write("d", 1, None),
        ];
        let sizes: Vec<usize> = groups(writes).iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 2]);
    }

    #[test]
    fn a_versioned_write_that_changed_no_row_is_a_conflict_on_its_resource() {
        assert!(check(Some("tasks/1"), 1).is_ok());
        assert!(check(None, 0).is_ok());
        match check(Some("tasks/1"), 0) {
            Err(Error::Conflict(resource)) => assert_eq!(resource, "tasks/1"),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
}
