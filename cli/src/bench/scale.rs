//! "scale": the reads and writes callers make, after loading 10³ … 10⁶
//! applications, instances and tasks. The rows are copies of ones the
//! services wrote (an application taken through a whole procedure, and
//! one whose first task is open), loaded in bulk through the services'
//! own store functions: one statement per thousand rows, ledger numbers
//! taken from the ledger counter as submissions take them. One in a
//! hundred loaded instances has an open task (and the first 50, so that a
//! work queue holds a full page at every size).

use anyhow::Context as _;
use procedo_intake::domain::application::{Application, HistoryEntry};
use procedo_intake::domain::ledger::LedgerNumber;
use procedo_platform::db::Backend;
use procedo_platform::service::Service;
use procedo_platform::writes::Writes;
use procedo_proto::intake as ipb;
use procedo_proto::workflow as pb;
use procedo_workflow::domain::instance::Instance;
use procedo_workflow::domain::task::{Task, Work};

use super::measure::{Figures, measure, measure_reads};
use super::procedure::Pair;
use super::scenarios::application;
use super::{Outcome, Row, Run};

/// Rows per loading statement.
const CHUNK: usize = 1000;
/// Loaded applications per ledger year (the ledger numbers six digits).
const PER_YEAR: usize = 800_000;
const YEAR_MS: i64 = 365 * 86_400_000;

pub async fn scale(run: &Run<'_>) -> anyhow::Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    for &rows in &run.args.scale_rows {
        outcomes.push(at(run, rows).await?);
    }
    Ok(outcomes)
}

async fn at(run: &Run<'_>, rows: usize) -> anyhow::Result<Outcome> {
    let pair = Pair::start(run).await?;
    let loading = std::time::Instant::now();
    let loaded = load(&pair, rows).await?;
    let load_rate = Figures::once(rows, loading.elapsed());
    let n = run.args.operations;
    let label = |what: &str| format!("{what} at {} rows", thousands(rows));
    let reads = pair.reads(run, &loaded, run.concurrency).await?;
    let list_instances = measure_reads(n, run.concurrency, |_| {
        let mut w = pair.admin.clone();
        async move {
            w.list_instances(pb::ListInstancesRequest {
                page_size: 20,
                ..Default::default()
            })
            .await?;
            Ok(())
        }
    })
    .await?;
    let clerk = pair.clerk.clone();
    // The whole ledger in one stream: rows per second should not fall,
    // nor memory grow, with the ledger's size.
    let rss_before = pair.system.peak_rss().unwrap_or(0);
    let exported = std::time::Instant::now();
    let mut stream = clerk
        .clone()
        .export_ledger(ipb::ExportLedgerRequest::default())
        .await?
        .into_inner();
    let mut entries = 0usize;
    while stream.message().await?.is_some() {
        entries += 1;
    }
    let export = Figures::once(entries, exported.elapsed());
    anyhow::ensure!(entries >= rows, "the export had {entries} of {rows} rows");
    let submit = measure(n, run.concurrency, |i| {
        let mut c = clerk.clone();
        async move {
            c.submit_application(application(1_000_000 + i)).await?;
            Ok(())
        }
    })
    .await?;
    Ok(Outcome {
        rows: vec![
            Row::new(
                label("bulk load (an application, its instance and a task per row)"),
                load_rate,
            )
            .rate_only(),
            Row::new(label("GetApplication"), reads.get_application),
            Row::new(label("GetInstance"), reads.get_instance),
            Row::new(label("ListInstances, newest 20"), list_instances),
            Row::new(
                label("ListTasks, an executor's work queue"),
                reads.work_queue,
            ),
            Row::new(label("QueryLedger, a page of 50"), reads.ledger_page),
            Row::new(label("SubmitApplication"), submit),
            Row::new(
                label(&format!(
                    "ExportLedger, every row (rows/s; the whole stream's time; peak RSS before it {} MiB)",
                    rss_before / (1024 * 1024)
                )),
                export,
            ),
        ],
        peak_rss: pair.stop().await?,
    })
}

/// Loads `rows` applications, each with its instance and one task, and
/// returns a sample of their (application, instance) names to read.
async fn load(pair: &Pair, rows: usize) -> anyhow::Result<Vec<(String, String)>> {
    use procedo_intake::store as intake_store;
    use procedo_workflow::store as workflow_store;
    // The rows copied: what the services wrote for a finished procedure
    // and for one whose first task is open.
    let finished = pair.accept(0).await?;
    let finished_instance = pair.instance_of(&finished.name).await?;
    pair.run_to_completion(&finished_instance.name).await?;
    let open = pair.accept(1).await?;
    let open_instance = pair.instance_of(&open.name).await?;

    let database = pair.system.database();
    let intake = database
        .connect("intake", <procedo_intake::Intake as Service>::MIGRATIONS)
        .await?;
    let workflow = database
        .connect(
            "workflow",
            <procedo_workflow::Workflow as Service>::MIGRATIONS,
        )
        .await?;
    let template = |application: String, instance: String| {
        let (intake, workflow) = (intake.clone(), workflow.clone());
        async move {
            let mut conn = intake.reader().acquire().await?;
            let application = intake_store::get_application(&mut conn, id(&application))
                .await?
                .context("the template application")?;
            let mut conn = workflow.reader().acquire().await?;
            let instance = workflow_store::get_instance(&mut conn, id(&instance))
                .await?
                .context("the template instance")?;
            let task = workflow_store::instance_tasks(&mut conn, &instance.id)
                .await?
                .pop()
                .context("the template task")?;
            anyhow::Ok(Template {
                application,
                instance,
                task,
            })
        }
    };
    let finished = template(finished.name, finished_instance.name).await?;
    let open = template(open.name, open_instance.name).await?;

    let now = procedo_platform::time::now();
    let mut sample = Vec::new();
    let mut start = 0;
    while start < rows {
        let count = CHUNK.min(rows - start).min(PER_YEAR - start % PER_YEAR);
        // Loaded applications were submitted in past years, PER_YEAR a
        // year, numbered on from that year's counter.
        let submitted_at = now - YEAR_MS * (1 + (start / PER_YEAR) as i64);
        let year = procedo_platform::time::year_in(submitted_at, chrono_tz::Asia::Shanghai);
        let mut tx = intake.begin().await?;
        let last = intake_store::take_ledger_numbers(&mut tx, year, count as i64).await?;
        let mut applications = Vec::with_capacity(count);
        let mut instances = Vec::with_capacity(count);
        let mut tasks = Vec::with_capacity(count);
        for k in 0..count {
            // One in a hundred open, and the first 50: a work queue holds
            // a full page at every size, so the sizes compare like with
            // like.
            let copied = if (start + k) % 100 == 99 || start + k < 50 {
                &open
            } else {
                &finished
            };
            let number = LedgerNumber::new(year, last - (count - 1 - k) as i64)
                .context("a ledger number of six digits")?;
            let (a, h, i, t) = copied.copy(number, submitted_at + k as i64);
            if (start + k) % 97 == 0 {
                sample.push((a.resource(), i.resource()));
            }
            applications.push((a, h));
            instances.push(i);
            tasks.push(t);
        }
        intake_store::insert_applications(&mut tx, &applications).await?;
        tx.commit().await?;
        let mut tx = workflow.begin().await?;
        workflow_store::insert_instances(&mut tx, &instances).await?;
        let mut writes = Writes::new(Backend::of(&tx));
        workflow_store::insert_tasks(&mut writes, &tasks);
        writes.run(&mut tx).await?;
        tx.commit().await?;
        start += count;
    }
    // The planner's statistics and PostgreSQL's visibility map as a
    // database that grew this big would have them — and no autovacuum of
    // the fresh rows running under the measurement.
    let settle = match database.postgres_url() {
        Some(_) => "VACUUM (ANALYZE)",
        None => "ANALYZE",
    };
    for db in [&intake, &workflow] {
        sqlx::query(settle).execute(db.reader()).await?;
        db.close().await;
    }
    Ok(sample)
}

/// The id in a resource name `kind/id`.
fn id(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// Stored rows copied into new ones.
struct Template {
    application: Application,
    instance: Instance,
    task: Task,
}

impl Template {
    /// A copy under new ids, ledger number `number`, submitted at
    /// `submitted_at`.
    fn copy(
        &self,
        number: LedgerNumber,
        submitted_at: i64,
    ) -> (Application, HistoryEntry, Instance, Task) {
        let shift = submitted_at - self.application.submitted_at;
        let (application_id, instance_id) = (
            uuid::Uuid::now_v7().to_string(),
            uuid::Uuid::now_v7().to_string(),
        );
        let mut a = self.application.clone();
        a.process_instance = a.process_instance.replace(&self.instance.id, &instance_id);
        a.id = application_id;
        a.ledger_number = number.to_string();
        a.submitted_at = submitted_at;
        a.updated_at += shift;
        let history = HistoryEntry {
            from: None,
            to: a.status,
            action: "submitted",
            reason: String::new(),
            actor: a.submitted_by.clone(),
            at: submitted_at,
        };
        let mut i = self.instance.clone();
        i.business_key = i.business_key.replace(&self.application.id, &a.id);
        i.id = instance_id;
        i.created_at += shift;
        i.updated_at += shift;
        i.ended_at = i.ended_at.map(|t| t + shift);
        let mut t = self.task.clone();
        t.id = uuid::Uuid::now_v7().to_string();
        if let Work::Step(work) = &mut t.work {
            work.instance_id = i.id.clone();
        }
        (a, history, i, t)
    }
}

/// 1000 → "10^3".
fn thousands(rows: usize) -> String {
    let exponent = (rows as f64).log10();
    if rows > 0 && (exponent - exponent.round()).abs() < 1e-9 {
        format!("10^{}", exponent.round())
    } else {
        rows.to_string()
    }
}
