//! Background work that cannot die silently. Every relay and timer of a
//! service runs under [`supervise`]: when it panics (or ends before
//! shutdown) the cause is logged, it restarts with backoff, and while it is
//! down the service's health says NOT_SERVING. [`Serving`] is what health
//! reports, from the workers and the database together.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::shutdown::Shutdown;

/// The first restart waits this long; each further one twice as long.
const RESTART_BASE: Duration = Duration::from_millis(100);
/// The longest wait before a restart.
const RESTART_MAX: Duration = Duration::from_secs(30);
/// A worker that ran this long before failing starts its backoff afresh.
const STEADY: Duration = Duration::from_secs(60);

/// What a service's health entries say: SERVING while every background
/// worker runs and the database answers, NOT_SERVING otherwise and from
/// the moment the service starts draining for good. The overall
/// `""` entry, which liveness probes ask, is left SERVING: a lost database
/// must not make an orchestrator restart every replica.
#[derive(Debug, Clone)]
pub struct Serving(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    reporter: HealthReporter,
    names: Mutex<Vec<&'static str>>,
    workers_down: AtomicUsize,
    database_down: AtomicBool,
    draining: AtomicBool,
}

impl Serving {
    pub fn new(reporter: HealthReporter) -> Serving {
        Serving(Arc::new(Inner {
            reporter,
            names: Mutex::new(Vec::new()),
            workers_down: AtomicUsize::new(0),
            database_down: AtomicBool::new(false),
            draining: AtomicBool::new(false),
        }))
    }

    /// The service names health reports on, and reports them.
    pub async fn serve(&self, names: Vec<&'static str>) {
        if let Ok(mut known) = self.0.names.lock() {
            *known = names;
        }
        self.publish().await;
    }

    /// True while every worker runs and the database answers, until the
    /// service drains.
    pub fn is_serving(&self) -> bool {
        self.0.workers_down.load(Ordering::SeqCst) == 0
            && !self.0.database_down.load(Ordering::SeqCst)
            && !self.0.draining.load(Ordering::SeqCst)
    }

    /// The service is shutting down: NOT_SERVING from now on.
    pub async fn drain(&self) {
        self.0.draining.store(true, Ordering::SeqCst);
        self.publish().await;
    }

    /// Whether the database answered when last asked.
    pub fn database_answers(&self) -> bool {
        !self.0.database_down.load(Ordering::SeqCst)
    }

    /// Records whether the database answers.
    pub async fn database(&self, up: bool) {
        let was_down = self.0.database_down.swap(!up, Ordering::SeqCst);
        if was_down == up {
            self.publish().await;
        }
    }

    async fn worker_down(&self) {
        self.0.workers_down.fetch_add(1, Ordering::SeqCst);
        self.publish().await;
    }

    async fn worker_up(&self) {
        self.0.workers_down.fetch_sub(1, Ordering::SeqCst);
        self.publish().await;
    }

    async fn publish(&self) {
        let status = if self.is_serving() {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        let names = self.0.names.lock().map(|n| n.clone()).unwrap_or_default();
        for name in names {
            self.0.reporter.set_service_status(name, status).await;
        }
    }
}

/// Runs the worker `start` makes until `shutdown`; when it panics or ends
/// early, logs why, reports the service NOT_SERVING, and starts a fresh one
/// after a backoff.
pub async fn supervise<F, Fut>(name: String, serving: Serving, shutdown: Shutdown, mut start: F)
where
    F: FnMut(Shutdown) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut failures: u32 = 0;
    loop {
        let started = Instant::now();
        let outcome = tokio::spawn(start(shutdown.clone())).await;
        if shutdown.is_triggered() {
            return;
        }
        match outcome {
            Ok(()) => {
                tracing::error!(worker = %name, "background worker stopped on its own; restarting it")
            }
            Err(e) => {
                tracing::error!(worker = %name, cause = %panic_message(e), "background worker failed; restarting it")
            }
        }
        if started.elapsed() >= STEADY {
            failures = 0;
        }
        let delay = RESTART_BASE
            .saturating_mul(1u32 << failures.min(16))
            .min(RESTART_MAX);
        failures = failures.saturating_add(1);
        serving.worker_down().await;
        tokio::select! {
            () = shutdown.clone().wait() => return,
            () = tokio::time::sleep(delay) => {}
        }
        serving.worker_up().await;
    }
}

fn panic_message(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return e.to_string();
    }
    let payload = e.into_panic();
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}
