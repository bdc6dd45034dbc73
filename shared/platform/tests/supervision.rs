//! Background work that fails is restarted, and health says so meanwhile:
//! a relay whose delivery panics comes back and delivers once the fault is
//! gone, and the service reports NOT_SERVING while it is down.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use procedo_platform::calendars::{NoDeadlines, Recompute};
use procedo_platform::db::Migrations;
use procedo_platform::error::Error;
use procedo_platform::identity::{Actor, Clearance};
use procedo_platform::inbox::Events;
use procedo_platform::outbox::{self, Deliver, NewEvent, Outcome};
use procedo_platform::service::{Context, Routes, Service};
use procedo_proto::common::Event;
use procedo_testkit::{Backend, TestDatabase, TestService, backend_tests};
use sqlx::AnyConnection;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

backend_tests!(a_relay_whose_delivery_panics_restarts_and_health_says_so_meanwhile);

/// A delivery that panics while its fault is on.
#[derive(Debug, Default)]
struct Fault {
    on: AtomicBool,
    delivered: AtomicUsize,
}

/// Faults by test, so tests running side by side keep their own.
static FAULTS: LazyLock<Mutex<HashMap<String, Arc<Fault>>>> = LazyLock::new(Mutex::default);

#[derive(Debug, Clone)]
struct Flaky(Arc<Fault>);

impl Deliver for Flaky {
    async fn deliver(&self, _event: &Event) -> Outcome {
        assert!(!self.0.on.load(Ordering::SeqCst), "injected delivery fault");
        self.0.delivered.fetch_add(1, Ordering::SeqCst);
        Outcome::Delivered("ok".into())
    }
}

#[derive(Debug, Clone, clap::Args)]
struct ProbeArgs {
    /// Which fault the relay delivers through.
    #[arg(long, default_value = "")]
    fault: String,
}

/// A service with one relay and one event to deliver.
#[derive(Debug)]
struct Probe;

#[derive(Debug, Clone, Copy)]
struct NoEvents;

impl Events for NoEvents {
    type Applied = ();

    async fn apply(&self, _tx: &mut AnyConnection, _event: &Event) -> Result<(), Error> {
        Ok(())
    }

    fn committed(&self, (): ()) {}
}

impl Service for Probe {
    const NAME: &'static str = "probe";
    const ABOUT: &'static str = "a service that only relays";
    const PORT: u16 = 0;
    const MIGRATIONS: Migrations = Migrations {
        sqlite: &[],
        postgres: &[],
    };
    type Args = ProbeArgs;
    type Events = NoEvents;

    async fn build(ctx: &mut Context, args: ProbeArgs) -> anyhow::Result<Probe> {
        let fault = FAULTS
            .lock()
            .map_err(|_| anyhow::anyhow!("faults poisoned"))?
            .get(&args.fault)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no fault {:?}", args.fault))?;
        let mut tx = ctx.db().begin().await?;
        outbox::enqueue(
            &mut tx,
            "procedo.probe",
            &Actor {
                subject: "tester".into(),
                name: String::new(),
                title: String::new(),
                department: String::new(),
                roles: vec![],
                approval_level: 0,
                clearance: Clearance::Internal,
            },
            NewEvent {
                destination: "peer",
                event_type: "procedo.probe.v1.happened",
                subject: "things/1",
                data_type: "procedo.probe.v1.Thing",
                data: vec![],
            },
        )
        .await?;
        tx.commit().await?;
        ctx.relay("peer", Flaky(fault));
        Ok(Probe)
    }

    fn routes(&self, _routes: &mut Routes) {}

    fn events(&self) -> NoEvents {
        NoEvents
    }

    fn deadlines(&self) -> Arc<dyn Recompute> {
        Arc::new(NoDeadlines)
    }
}

async fn status(health: &mut HealthClient<tonic::transport::Channel>) -> ServingStatus {
    health
        .check(HealthCheckRequest {
            service: "procedo.common.v1.EventSinkService".into(),
        })
        .await
        .expect("health answers")
        .into_inner()
        .status()
}

async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..500 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what} did not happen within five seconds");
}

async fn a_relay_whose_delivery_panics_restarts_and_health_says_so_meanwhile(backend: Backend) {
    let key = uuid::Uuid::now_v7().to_string();
    let fault = Arc::new(Fault::default());
    fault.on.store(true, Ordering::SeqCst);
    FAULTS
        .lock()
        .expect("faults")
        .insert(key.clone(), Arc::clone(&fault));
    let database = TestDatabase::new(backend, "probe");
    let mut service = TestService::spawn::<Probe>(&database, |c| c.service.fault = key).await;
    let mut health = HealthClient::new(service.channel.clone());

    until("the failing relay makes the service NOT_SERVING", || {
        let mut health = health.clone();
        async move { status(&mut health).await == ServingStatus::NotServing }
    })
    .await;
    fault.on.store(false, Ordering::SeqCst);
    until("the restarted relay delivers", || async {
        fault.delivered.load(Ordering::SeqCst) == 1
    })
    .await;
    until("the service is SERVING again", || {
        let mut health = health.clone();
        async move { status(&mut health).await == ServingStatus::Serving }
    })
    .await;

    let overall = health
        .check(HealthCheckRequest::default())
        .await
        .expect("health answers")
        .into_inner()
        .status();
    assert_eq!(overall, ServingStatus::Serving);
    service.stop().await;
}
