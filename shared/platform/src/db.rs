//! One database URL picks the backend: a SQLite file (the embedded default)
//! or PostgreSQL, where each service keeps its tables in its own schema.
//!
//! Every statement goes through sqlx's `Any` driver, so the SQL is written
//! once for both; the few statements that cannot be (row locks with
//! `SKIP LOCKED`) branch on [`Backend`] right next to each other in the store.
//! Stored values are kept to what `Any` decodes on both backends: TEXT ids,
//! BIGINT epoch milliseconds, BIGINT money in minor units, BIGINT 0/1 flags (an INTEGER is
//! int4 on PostgreSQL and decodes differently).
//!
//! SQLite allows one writer at a time; a transaction that starts reading and
//! then writes fails with `SQLITE_BUSY` when another got the write lock
//! first. So writes go through a single-connection pool ([`Database::begin`])
//! and reads through a pool of readers (WAL lets them run beside the writer).
//! On PostgreSQL both are the same pool.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use std::borrow::Cow;

use sqlx::SqlSafeStr as _;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Any, AnyPool, AssertSqlSafe, Executor as _, Transaction};

/// Which database engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a URL names, from its scheme.
    pub fn of_url(url: &str) -> anyhow::Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!("database URL must start with sqlite: or postgres:")
        }
    }

    /// The backend a connection speaks to.
    pub fn of(conn: &sqlx::AnyConnection) -> Backend {
        if conn.backend_name() == "SQLite" {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }
}

/// One migration script, embedded with `include_str!`.
#[derive(Debug, Clone, Copy)]
pub struct Script {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

/// The migrations a service ships for each backend.
#[derive(Debug, Clone, Copy)]
pub struct Migrations {
    pub sqlite: &'static [Script],
    pub postgres: &'static [Script],
}

impl Migrations {
    fn for_backend(&self, backend: Backend) -> &'static [Script] {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }
}

/// A service's [`Migrations`] from its `migrations/sqlite/` and
/// `migrations/postgres/` folders, one `(version, description, file)` per
/// script, the file named alike in both:
///
/// ```text
/// const MIGRATIONS: Migrations = procedo_platform::migrations![
///     (1, "intake", "0001_intake.sql"),
///     (2, "process", "0002_process.sql"),
/// ];
/// ```
#[macro_export]
macro_rules! migrations {
    ($(($version:literal, $description:literal, $file:literal)),* $(,)?) => {
        $crate::db::Migrations {
            sqlite: &[$($crate::db::Script {
                version: $version,
                description: $description,
                sql: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite/", $file)),
            }),*],
            postgres: &[$($crate::db::Script {
                version: $version,
                description: $description,
                sql: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres/", $file)),
            }),*],
        }
    };
}

/// The platform's own tables (outbox, inbox, request ids), kept in every
/// service's schema and tracked apart from the service's migrations.
const PLATFORM: Migrations = crate::migrations![
    (1, "platform", "0001_platform.sql"),
    (2, "lease owner", "0002_lease_owner.sql"),
    (3, "calendars", "0003_calendars.sql"),
    (4, "outbox sequence", "0004_outbox_sequence.sql"),
    (5, "retention", "0005_retention.sql"),
    (6, "request digest", "0006_request_digest.sql"),
];

fn migrator(scripts: &[Script], table: &'static str) -> Migrator {
    let migrations = scripts
        .iter()
        .map(|s| {
            Migration::new(
                s.version,
                Cow::Borrowed(s.description),
                MigrationType::Simple,
                s.sql.into_sql_str(),
                false,
            )
        })
        .collect::<Vec<_>>();
    Migrator {
        migrations: Cow::Owned(migrations),
        table_name: Cow::Borrowed(table),
        ..Migrator::DEFAULT
    }
}

/// How long a call waits for a PostgreSQL connection by default.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Where and how a service connects.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// `sqlite:` or `postgres:` URL.
    pub url: String,
    /// PostgreSQL schema holding the service's tables (ignored on SQLite).
    pub schema: String,
    /// Upper bound of pooled connections (readers, on SQLite).
    pub max_connections: u32,
    /// Longest wait for a PostgreSQL connection before a call is told the
    /// database is unavailable.
    pub acquire_timeout: Duration,
}

impl DbOptions {
    /// The embedded default: `<data_dir>/<service>.db`.
    pub fn sqlite_file(data_dir: &Path, service: &str) -> DbOptions {
        let path: PathBuf = data_dir.join(format!("{service}.db"));
        DbOptions {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            schema: service.to_owned(),
            max_connections: 8,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        }
    }
}

/// A service's database: the write path and the read path.
#[derive(Debug, Clone)]
pub struct Database {
    backend: Backend,
    writer: AnyPool,
    reader: AnyPool,
    /// The pool's name in metrics: the schema (the service's name unless
    /// configured otherwise).
    pool_name: std::sync::Arc<str>,
}

/// PostgreSQL's NOTICEs ("schema already exists, skipping" on every
/// start) are not worth a log line; its warnings still are.
const QUIET_NOTICES: &str = "SET client_min_messages TO warning";

impl Database {
    /// Connects, creating the PostgreSQL schema or the SQLite file as needed,
    /// and runs the service's migrations.
    pub async fn connect(options: &DbOptions, migrations: Migrations) -> anyhow::Result<Database> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(&options.url)?;
        crate::telemetry::database_is(match backend {
            Backend::Postgres => "postgresql",
            Backend::Sqlite => "sqlite",
        });
        let connect =
            AnyConnectOptions::from_str(&options.url).context("database URL is not valid")?;
        let db = match backend {
            Backend::Sqlite => {
                if let Some(dir) = sqlite_parent_dir(&options.url) {
                    std::fs::create_dir_all(&dir)
                        .with_context(|| format!("creating data folder {}", dir.display()))?;
                }
                let writer = sqlite_pool(1).connect_with(connect.clone()).await?;
                // The writer creates the file and switches it to WAL before
                // any reader opens it.
                let reader = sqlite_pool(options.max_connections.max(1))
                    .connect_with(connect)
                    .await?;
                Database {
                    backend,
                    writer,
                    reader,
                    pool_name: options.schema.as_str().into(),
                }
            }
            Backend::Postgres => {
                validate_schema_name(&options.schema)?;
                let schema = options.schema.clone();
                let bootstrap = AnyPoolOptions::new()
                    .max_connections(1)
                    .connect_with(connect.clone())
                    .await
                    .context("connecting to PostgreSQL")?;
                bootstrap
                    .execute(QUIET_NOTICES)
                    .await
                    .context("connecting to PostgreSQL")?;
                let create = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
                // The name was validated above: lower-case letters, digits, '_'.
                match bootstrap.execute(AssertSqlSafe(create)).await {
                    Ok(_) => {}
                    // Two services (or test processes) creating the same
                    // schema at once race in the catalog; the loser's error
                    // means the schema exists.
                    Err(e) if is_unique_violation(&e) => {}
                    Err(e) => return Err(e).context("creating the database schema"),
                }
                bootstrap.close().await;
                let pool = AnyPoolOptions::new()
                    .max_connections(options.max_connections.max(2))
                    .acquire_timeout(options.acquire_timeout)
                    .after_connect(move |conn, _meta| {
                        let set = format!(
                            "SELECT set_config('search_path', '\"{schema}\"', false), \
                             set_config('client_min_messages', 'warning', false)"
                        );
                        Box::pin(async move {
                            conn.execute(AssertSqlSafe(set)).await?;
                            no_delay(conn).await?;
                            Ok(())
                        })
                    })
                    .connect_with(connect)
                    .await
                    .context("connecting to PostgreSQL")?;
                Database {
                    backend,
                    writer: pool.clone(),
                    reader: pool,
                    pool_name: options.schema.as_str().into(),
                }
            }
        };
        // PostgreSQL migrations hold an advisory lock; SQLite's have none,
        // so processes opening one file at once take turns on a lock file.
        let _turn = match sqlite_file(&options.url) {
            Some(file) if backend == Backend::Sqlite => Some(migration_turn(file).await?),
            _ => None,
        };
        migrator(
            PLATFORM.for_backend(backend),
            "_procedo_platform_migrations",
        )
        .run(&db.writer)
        .await
        .context("running the platform's database migrations")?;
        migrator(migrations.for_backend(backend), "_sqlx_migrations")
            .run(&db.writer)
            .await
            .context("running database migrations")?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers a trivial query within `within`.
    pub async fn answers(&self, within: Duration) -> bool {
        let ping = async {
            let mut conn = self.reader.acquire().await?;
            conn.execute("SELECT 1").await
        };
        matches!(tokio::time::timeout(within, ping).await, Ok(Ok(_)))
    }

    /// The pool for reads that need no transaction.
    pub fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// Connections open in the pools, as (in use, idle); on PostgreSQL
    /// the writer and the reader are one pool.
    pub fn connections(&self) -> (u64, u64) {
        let pools: &[&AnyPool] = match self.backend {
            Backend::Postgres => &[&self.writer],
            Backend::Sqlite => &[&self.writer, &self.reader],
        };
        pools.iter().fold((0, 0), |(used, idle), pool| {
            let (size, free) = (u64::from(pool.size()), pool.num_idle() as u64);
            (used + size.saturating_sub(free), idle + free)
        })
    }

    /// The pool's name in metrics (`db.client.connection.pool.name`).
    pub fn pool_name(&self) -> &str {
        &self.pool_name
    }

    /// Starts a write transaction (the single writer, on SQLite). How long
    /// it waited for its connection, and whether it gave up, is measured.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        let asked = std::time::Instant::now();
        let begun = match self.backend {
            // Take the write lock at once (waiting out the busy timeout):
            // a transaction that reads first and writes later is refused
            // outright when another process wrote meanwhile.
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.writer.begin().await,
        };
        let timed_out = matches!(begun, Err(sqlx::Error::PoolTimedOut));
        crate::metrics::connection_waited(&self.pool_name, asked.elapsed(), timed_out);
        begun
    }

    /// Closes both pools, waiting for connections in use.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

fn sqlite_pool(max: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                )
                .await?;
                Ok(())
            })
        })
}

/// Waits for this process's turn to migrate the SQLite file `file`: an
/// exclusive lock on `<file>.migrating`, released when dropped.
async fn migration_turn(file: PathBuf) -> anyhow::Result<std::fs::File> {
    let mut lock_path = file.into_os_string();
    lock_path.push(".migrating");
    tokio::task::spawn_blocking(move || {
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("opening {}", Path::new(&lock_path).display()))?;
        lock.lock()
            .with_context(|| format!("locking {}", Path::new(&lock_path).display()))?;
        Ok(lock)
    })
    .await?
}

/// The SQLite file a URL names, unless it is in memory.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(PathBuf::from(path))
}

fn sqlite_parent_dir(url: &str) -> Option<PathBuf> {
    sqlite_file(url)?.parent().map(Path::to_path_buf)
}

fn validate_schema_name(schema: &str) -> anyhow::Result<()> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    anyhow::ensure!(
        ok,
        "database schema {schema:?} must be 1-63 lower-case letters, digits or '_'"
    );
    Ok(())
}

/// Sets TCP_NODELAY on a new PostgreSQL connection. sqlx 0.9.0 opens
/// its sockets without it (launchbadge/sqlx#4335; fixed upstream after
/// 0.9.0), so a statement whose message leaves in two writes — a
/// multi-row insert, a batch of submissions — waits ~40 ms for the
/// server's delayed ACK. The connection's socket is found by the local
/// port the server sees; behind a proxy or NAT, where that port is not
/// ours, nothing is set. Remove once a sqlx release sets it itself.
async fn no_delay(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    let port: Option<i32> = sqlx::query_scalar("SELECT inet_client_port()")
        .fetch_one(&mut *conn)
        .await?;
    if let Some(port) = port.and_then(|p| u16::try_from(p).ok()) {
        set_no_delay_on_local_port(port);
    }
    Ok(())
}

fn set_no_delay_on_local_port(port: u16) {
    let _ = on_local_socket(port, |socket| socket.set_tcp_nodelay(true));
}

/// Whether this process's TCP socket on local `port` has TCP_NODELAY;
/// `None` when no socket of ours is on it (or off Linux). What the
/// PostgreSQL connections' test asks.
pub fn no_delay_on_local_port(port: u16) -> Option<bool> {
    on_local_socket(port, |socket| socket.tcp_nodelay().ok()).flatten()
}

/// Runs `f` on this process's stream socket whose local port is `port`.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn on_local_socket<R>(port: u16, f: impl FnOnce(&socket2::SockRef<'_>) -> R) -> Option<R> {
    use std::os::fd::{BorrowedFd, RawFd};
    let fds = std::fs::read_dir("/proc/self/fd").ok()?;
    for entry in fds.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<RawFd>().ok())
        else {
            continue;
        };
        // SAFETY: the descriptor is only asked about and, when it is the
        // connection's socket, given or asked an option; a descriptor
        // closed meanwhile answers EBADF, which is ignored.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&fd);
        let ours = socket.r#type().ok() == Some(socket2::Type::STREAM)
            && socket
                .local_addr()
                .ok()
                .and_then(|a| a.as_socket())
                .is_some_and(|a| a.port() == port);
        if ours {
            return Some(f(&socket));
        }
    }
    None
}

#[cfg(not(target_os = "linux"))]
fn on_local_socket<R>(_port: u16, _f: impl FnOnce(&socket2::SockRef<'_>) -> R) -> Option<R> {
    None
}

/// Drops a PostgreSQL schema and everything in it (test and bench
/// databases clean up after themselves with it).
pub async fn drop_schema(url: &str, schema: &str) -> anyhow::Result<()> {
    validate_schema_name(schema)?;
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .context("connecting to PostgreSQL")?;
    let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    // The name was validated above.
    let dropped = pool.execute(AssertSqlSafe(drop)).await;
    pool.close().await;
    dropped.with_context(|| format!("dropping schema {schema}"))?;
    Ok(())
}

/// True when `e` is a unique-constraint violation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
