//! What a scenario measures: `procedo dev` running the services it needs
//! in a process of its own, on a database made for the run, reached over
//! TCP as any caller reaches it — so the figures include what a network
//! client pays (encoding, the socket, HTTP/2) and the services' memory is
//! their own.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use procedo_platform::db::{self, Backend, DbOptions, Migrations};
use sqlx::{AssertSqlSafe, Executor as _};

/// A database made for one scenario and removed after it: a SQLite data
/// folder, or a PostgreSQL database of its own (each service keeps its
/// usual schema in it).
pub struct RunDatabase {
    /// PostgreSQL: the server's administrative URL and the database made.
    postgres: Option<(String, String)>,
    dir: tempfile::TempDir,
}

impl RunDatabase {
    pub async fn new(backend: Backend, postgres_url: &str) -> anyhow::Result<RunDatabase> {
        let dir = tempfile::tempdir()?;
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let name = format!("procedo_bench_{}", uuid::Uuid::now_v7().simple());
                let mut admin = connect_admin(postgres_url).await?;
                // The name is ours, made of hex digits.
                admin
                    .execute(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .await
                    .with_context(|| format!("creating database {name}"))?;
                Some((postgres_url.to_owned(), name))
            }
        };
        Ok(RunDatabase { postgres, dir })
    }

    /// The `procedo dev` flags that put its services on this database.
    fn dev_args(&self) -> Vec<String> {
        match &self.postgres {
            Some((url, name)) => vec!["--database-url".into(), with_database(url, name)],
            None => vec!["--data-dir".into(), self.dir.path().display().to_string()],
        }
    }

    /// A connection pool of the bench's own on the same database, in
    /// schema (or SQLite file) `name`, for ceilings and bulk loads.
    pub async fn connect(
        &self,
        name: &str,
        migrations: Migrations,
    ) -> anyhow::Result<db::Database> {
        let options = match &self.postgres {
            Some((url, database)) => DbOptions {
                url: with_database(url, database),
                schema: name.to_owned(),
                max_connections: 64,
                acquire_timeout: Duration::from_secs(30),
            },
            None => DbOptions::sqlite_file(self.dir.path(), name),
        };
        db::Database::connect(&options, migrations).await
    }

    pub async fn remove(mut self) -> anyhow::Result<()> {
        match self.postgres.take() {
            Some((url, name)) => drop_database(&url, &name).await,
            None => Ok(()),
        }
    }

    /// The PostgreSQL URL of this database, for `pgbench`.
    pub fn postgres_url(&self) -> Option<String> {
        self.postgres
            .as_ref()
            .map(|(url, name)| with_database(url, name))
    }
}

/// A scenario that failed half-way leaves no database behind either.
impl Drop for RunDatabase {
    fn drop(&mut self) {
        if let Some((url, name)) = self.postgres.take() {
            // Dropped inside the bench's runtime: the drop runs on a
            // runtime of its own, on a thread of its own.
            let dropped = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(anyhow::Error::from)
                    .and_then(|runtime| runtime.block_on(drop_database(&url, &name)))
            })
            .join();
            if let Ok(Err(e)) = dropped {
                eprintln!("warning: {e:#}");
            }
        }
    }
}

async fn drop_database(url: &str, name: &str) -> anyhow::Result<()> {
    let mut admin = connect_admin(url).await?;
    admin
        .execute(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .await
        .with_context(|| format!("dropping database {name}"))?;
    Ok(())
}

async fn connect_admin(url: &str) -> anyhow::Result<sqlx::AnyConnection> {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(url)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {url}"))
}

/// `url` with its database name replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|scheme| scheme + 3)
        .and_then(|from| base[from..].find('/').map(|slash| from + slash))
        .unwrap_or(base.len());
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// `procedo dev` serving some services for a scenario.
pub struct System {
    child: Services,
    endpoints: HashMap<String, String>,
    database: RunDatabase,
}

impl System {
    /// Starts `procedo dev --services <services>` on `database` with
    /// `extra` flags, and waits until it is ready.
    pub async fn start(
        services: &[&str],
        database: RunDatabase,
        extra: &[&str],
    ) -> anyhow::Result<System> {
        let endpoints_file = database.dir.path().join("endpoints.json");
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args(["dev", "--services", &services.join(",")])
            .args(["--endpoints-file"])
            .arg(&endpoints_file)
            .args(["--concurrency-limit", "4096"])
            .args(database.dev_args())
            .args(extra);
        for service in services {
            command.args([format!("--{service}-port"), "0".into()]);
        }
        // Only the flags above: nothing from the caller's environment
        // moves the services elsewhere.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PROCEDO_") {
                command.env_remove(key);
            }
        }
        let child = command
            .env("PROCEDO_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .context("starting procedo dev")?;
        let mut system = System {
            child: Services(child),
            endpoints: HashMap::new(),
            database,
        };
        let started = Instant::now();
        loop {
            if let Ok(bytes) = std::fs::read(&endpoints_file) {
                let file: serde_json::Value = serde_json::from_slice(&bytes)?;
                for (name, url) in file["endpoints"].as_object().into_iter().flatten() {
                    system
                        .endpoints
                        .insert(name.clone(), url.as_str().unwrap_or_default().to_owned());
                }
                return Ok(system);
            }
            if let Some(status) = system.child.0.try_wait()? {
                anyhow::bail!("procedo dev exited before it was ready ({status})");
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(120),
                "procedo dev was not ready within two minutes"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A channel to `service` over TCP.
    pub async fn channel(&self, service: &str) -> anyhow::Result<tonic::transport::Channel> {
        let url = self
            .endpoints
            .get(service)
            .with_context(|| format!("{service} is not running"))?;
        Ok(tonic::transport::Endpoint::from_shared(url.clone())?
            .tcp_nodelay(true)
            .connect()
            .await?)
    }

    pub fn database(&self) -> &RunDatabase {
        &self.database
    }

    /// The services' process's peak resident memory so far, in bytes.
    pub fn peak_rss(&self) -> Option<u64> {
        peak_rss_of(self.child.0.id())
    }

    /// Stops the services and removes the database; their peak memory.
    pub async fn stop(self) -> anyhow::Result<Option<u64>> {
        let peak = self.peak_rss();
        drop(self.child);
        self.database.remove().await?;
        Ok(peak)
    }
}

/// The services' process, killed when the bench is done with it, even
/// when a scenario fails half-way.
struct Services(Child);

impl Drop for Services {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `VmHWM` of a process, from `/proc` (Linux).
fn peak_rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(PathBuf::from(format!("/proc/{pid}/status"))).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn a_url_gets_another_database() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "b"),
            "postgres://postgres@127.0.0.1:5432/b"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "b"),
            "postgres://u:p@h/b?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "b"),
            "postgres://h:5432/b"
        );
    }

    #[test]
    fn peak_memory_is_read_for_this_process() {
        assert!(super::peak_rss_of(std::process::id()).is_some_and(|b| b > 0));
    }
}
