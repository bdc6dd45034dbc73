//! `procedo bench`: measured load against real services, each figure
//! beside the ceilings measured in the same run on the same database and
//! machine, so results read as ratios, not as absolute numbers.
//!
//! The services run in a process of their own (`procedo dev` with the
//! services a scenario needs, on a database made for it); the bench is
//! their client over TCP, as any caller is.
//!
//! # Layout
//!
//! - [`measure`]: closed-loop load and its percentiles.
//! - [`system`]: the services' process and the run's database.
//! - [`ceilings`]: the insert transaction, `pgbench`, the round trip.
//! - [`scenarios`]: "tasks", "submit", "audit" (one service each);
//!   [`procedure`]: "procedure" and "reads" (intake and workflow);
//!   [`scale`]: the reads and writes after loading 10³ … 10⁶ rows.

mod ceilings;
mod measure;
mod procedure;
mod scale;
mod scenarios;
mod system;

use procedo_platform::auth::DevSigner;
use procedo_platform::config::DEV_JWT_SECRET;
use procedo_platform::db::Backend;
use procedo_platform::identity::Role;

use measure::Figures;
use system::RunDatabase;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    Tasks,
    Submit,
    Audit,
    Procedure,
    Reads,
    Scale,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Backends to measure: sqlite, postgres, or both.
    #[arg(long, value_parser = ["sqlite", "postgres", "both"], default_value = "sqlite")]
    pub backend: String,

    /// PostgreSQL to measure against (a database is made for each
    /// scenario and dropped after it).
    #[arg(
        long,
        env = "PROCEDO_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    pub postgres_url: String,

    /// Operations per measure (procedures: a tenth of it, at least one per
    /// client).
    #[arg(long, default_value_t = 2000)]
    pub operations: usize,

    /// Concurrent clients; several, comma-separated, measure each load
    /// (e.g. 16,64).
    #[arg(long, value_delimiter = ',', default_value = "16")]
    pub concurrency: Vec<usize>,

    /// Scenarios to run, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "tasks,submit,audit,procedure,reads,scale"
    )]
    pub scenarios: Vec<Scenario>,

    /// Applications, instances and tasks loaded before each "scale" run,
    /// comma-separated (e.g. 1000,100000,1000000); "scale" runs at the
    /// first --concurrency only.
    #[arg(long, value_delimiter = ',', default_value = "1000,100000")]
    pub scale_rows: Vec<usize>,
}

/// One measured load: a backend, a client count, these arguments.
pub struct Run<'a> {
    pub args: &'a BenchArgs,
    pub backend: Backend,
    pub concurrency: usize,
}

impl Run<'_> {
    /// A database made for one scenario.
    async fn database(&self) -> anyhow::Result<RunDatabase> {
        RunDatabase::new(self.backend, &self.args.postgres_url).await
    }

    /// A token of `subject` in department "ops" with `roles`, signed with
    /// the development secret `procedo dev` checks.
    fn token(&self, subject: &str, roles: &[Role]) -> String {
        DevSigner::new(DEV_JWT_SECRET.as_bytes()).token(subject, "ops", roles, 3600)
    }
}

/// One line of the table.
pub struct Row {
    measure: String,
    figures: Figures,
    rate: bool,
    latency: bool,
}

impl Row {
    fn new(measure: impl Into<String>, figures: Figures) -> Row {
        Row {
            measure: measure.into(),
            figures,
            rate: true,
            latency: true,
        }
    }

    /// A rate without latencies of its own.
    fn rate_only(self) -> Row {
        Row {
            latency: false,
            ..self
        }
    }

    /// Latencies without a rate of their own.
    fn latency_only(self) -> Row {
        Row {
            rate: false,
            ..self
        }
    }
}

/// What a scenario measured, and the services' peak memory meanwhile.
pub struct Outcome {
    rows: Vec<Row>,
    peak_rss: Option<u64>,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.operations >= 1
            && !args.concurrency.is_empty()
            && !args.concurrency.contains(&0)
            && !args.scale_rows.contains(&0),
        "--operations, --concurrency and --scale-rows must be at least 1"
    );
    let backends: &[Backend] = match args.backend.as_str() {
        "postgres" => &[Backend::Postgres],
        "both" => &[Backend::Sqlite, Backend::Postgres],
        _ => &[Backend::Sqlite],
    };
    let build = if cfg!(debug_assertions) {
        "debug build: use --release for real figures"
    } else {
        "release build"
    };
    crate::out!(
        "procedo bench — {} operations per measure, services in their own process, clients over TCP ({build})",
        args.operations
    );
    crate::out!();
    crate::out!(
        "| backend | clients | measure | ops/s | p50 ms | p90 ms | p99 ms | of insert ceiling | services' peak RSS MiB |"
    );
    crate::out!("|---|---:|---|---:|---:|---:|---:|---:|---:|");
    for &backend in backends {
        for &concurrency in &args.concurrency {
            let run = Run {
                args: &args,
                backend,
                concurrency,
            };
            let database = run.database().await?;
            let insert = ceilings::insert(&database, args.operations, concurrency).await?;
            let pgbench = ceilings::pgbench(&database, concurrency)?;
            database.remove().await?;
            let table = Table {
                backend: ceilings::backend_name(backend),
                concurrency,
                insert: insert.per_second,
            };
            table.print(
                &Row::new(
                    "ceiling: insert transaction (BEGIN, INSERT, COMMIT via sqlx)",
                    insert.clone(),
                ),
                None,
            );
            match pgbench {
                Ok(tps) => table.print(
                    &Row::new(
                        "ceiling: the same insert measured by pgbench",
                        Figures::rate(tps),
                    )
                    .rate_only(),
                    None,
                ),
                Err(why) if backend == Backend::Postgres => {
                    crate::out!(
                        "| {} | {concurrency} | ceiling: pgbench — {why} | | | | | | |",
                        table.backend
                    );
                }
                Err(_) => {}
            }
            for scenario in &args.scenarios {
                let outcomes = match scenario {
                    Scenario::Tasks => vec![scenarios::tasks(&run).await?],
                    Scenario::Submit => vec![scenarios::submit(&run).await?],
                    Scenario::Audit => vec![scenarios::audit(&run).await?],
                    Scenario::Procedure => vec![procedure::procedure(&run).await?],
                    Scenario::Reads => vec![procedure::reads(&run).await?],
                    // Loading is the long part: one client count is
                    // enough to see whether the reads stay flat.
                    Scenario::Scale if concurrency != args.concurrency[0] => Vec::new(),
                    Scenario::Scale => scale::scale(&run).await?,
                };
                for outcome in outcomes {
                    for row in &outcome.rows {
                        table.print(row, outcome.peak_rss);
                    }
                }
            }
        }
    }
    Ok(())
}

/// The rows of one backend and client count.
struct Table {
    backend: &'static str,
    concurrency: usize,
    insert: f64,
}

impl Table {
    fn print(&self, row: &Row, peak_rss: Option<u64>) {
        let f = &row.figures;
        let ms = |d: std::time::Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
        let (rate, share) = if row.rate {
            (
                format!("{:.0}", f.per_second),
                format!("{:.0}%", 100.0 * f.per_second / self.insert),
            )
        } else {
            (String::new(), String::new())
        };
        let (p50, p90, p99) = if row.latency {
            (ms(f.p50), ms(f.p90), ms(f.p99))
        } else {
            Default::default()
        };
        let rss = peak_rss
            .map(|b| format!("{:.0}", b as f64 / (1024.0 * 1024.0)))
            .unwrap_or_default();
        crate::out!(
            "| {} | {} | {} | {rate} | {p50} | {p90} | {p99} | {share} | {rss} |",
            self.backend,
            self.concurrency,
            row.measure
        );
    }
}
