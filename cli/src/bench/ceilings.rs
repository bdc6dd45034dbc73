//! What the machine can do, measured in the same run: one durable
//! single-row write through sqlx from the bench (the cost every write
//! path pays at least once), the same measured by PostgreSQL's own
//! `pgbench`, and the bare gRPC round trip (a health check).

use std::process::Command;

use procedo_platform::db::{Backend, Migrations};

use super::measure::{Figures, measure, measure_reads};
use super::system::{RunDatabase, System};

/// A single-row insert transaction (BEGIN, INSERT, COMMIT), from the
/// bench's own pool.
pub async fn insert(
    database: &RunDatabase,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<Figures> {
    let db = database
        .connect(
            "ceiling",
            Migrations {
                sqlite: &[],
                postgres: &[],
            },
        )
        .await?;
    sqlx::query("CREATE TABLE bench_ceiling (id TEXT PRIMARY KEY, at BIGINT NOT NULL)")
        .execute(db.reader())
        .await?;
    // Every connection opened before the clock starts.
    let insert = |i: usize| {
        let db = db.clone();
        async move {
            let mut tx = db.begin().await?;
            sqlx::query("INSERT INTO bench_ceiling (id, at) VALUES ($1, $2)")
                .bind(format!("row-{i}"))
                .bind(procedo_platform::time::now())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }
    };
    measure(concurrency, concurrency, |i| insert(n + i)).await?;
    let figures = measure(n, concurrency, insert).await?;
    db.close().await;
    Ok(figures)
}

/// `pgbench`'s rate for the same one-row insert on the same server, or
/// why there is none (SQLite; `pgbench` not installed).
pub fn pgbench(database: &RunDatabase, concurrency: usize) -> anyhow::Result<Result<f64, String>> {
    let Some(url) = database.postgres_url() else {
        return Ok(Err("PostgreSQL only".into()));
    };
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("insert.sql");
    std::fs::write(
        &script,
        "INSERT INTO pgbench_ceiling (at) VALUES (clock_timestamp());\n",
    )?;
    let psql = Command::new("psql")
        .args([url.as_str(), "-q", "-c"])
        .arg("CREATE TABLE pgbench_ceiling (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL)")
        .output();
    match psql {
        Ok(out) if out.status.success() => {}
        Ok(out) => anyhow::bail!(
            "psql could not make the pgbench table: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => return Ok(Err("psql is not installed".into())),
    }
    let run = Command::new("pgbench")
        .args(["-n", "-T", "5", "-j", "2", "-f"])
        .arg(&script)
        .args(["-c", &concurrency.to_string(), &url])
        .output();
    let out = match run {
        Ok(out) if out.status.success() => out,
        Ok(out) => anyhow::bail!("pgbench failed: {}", String::from_utf8_lossy(&out.stderr)),
        Err(_) => return Ok(Err("pgbench is not installed".into())),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let tps = stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .ok_or_else(|| anyhow::anyhow!("no tps in pgbench's output: {stdout}"))?;
    Ok(Ok(tps))
}

/// The bare gRPC round trip to `service` of `system`: a health check.
pub async fn round_trip(
    system: &System,
    service: &str,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<Figures> {
    let health = tonic_health::pb::health_client::HealthClient::new(system.channel(service).await?);
    measure_reads(n, concurrency, |_| {
        let mut h = health.clone();
        async move {
            h.check(tonic_health::pb::HealthCheckRequest::default())
                .await?;
            Ok(())
        }
    })
    .await
}

pub fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}
