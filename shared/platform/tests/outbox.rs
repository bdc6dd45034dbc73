//! The outbox relay on both backends: replicas deliver every event exactly
//! once between them, failures are retried with backoff, and every attempt
//! is recorded.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use procedo_platform::db::{Database, Migrations};
use procedo_platform::identity::{Actor, Clearance};
use procedo_platform::outbox::{
    self, Deliver, DeliveryStatus, NewEvent, Outcome, Relay, RetryPolicy,
};
use procedo_platform::paging::Page;
use procedo_proto::common::Event;
use procedo_testkit::{Backend, TestDatabase, backend_tests};

backend_tests!(
    two_relays_deliver_every_event_exactly_once_between_them,
    a_failed_delivery_is_retried_and_every_attempt_recorded,
    an_event_without_a_relay_stays_pending,
    a_long_delivery_keeps_its_lease_and_a_killed_relays_events_go_out_soon,
    a_peer_that_answers_again_gets_its_backlog_at_once_not_after_the_backoff,
    an_unreachable_peer_never_turns_events_failed_however_many_attempts,
);

const NO_TABLES: Migrations = Migrations {
    sqlite: &[],
    postgres: &[],
};

/// Counts deliveries per event id; fails the first `fail_first` attempts.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<HashMap<String, u32>>>,
    fail_first: u32,
}

impl Deliver for Recorder {
    async fn deliver(&self, event: &Event) -> Outcome {
        let mut seen = self.seen.lock().expect("lock");
        let count = seen.entry(event.id.clone()).or_default();
        *count += 1;
        if *count <= self.fail_first {
            Outcome::Retry(format!("refused attempt {count}"))
        } else {
            Outcome::Delivered("ok".into())
        }
    }
}

fn actor() -> Actor {
    Actor {
        subject: "tester".into(),
        name: "Tester".into(),
        title: String::new(),
        department: "ops".into(),
        roles: vec![],
        approval_level: 0,
        clearance: Clearance::Internal,
    }
}

async fn enqueue(db: &Database, destination: &str, n: usize) {
    let mut tx = db.begin().await.expect("tx");
    for i in 0..n {
        outbox::enqueue(
            &mut tx,
            "procedo.test",
            &actor(),
            NewEvent {
                destination,
                event_type: "procedo.test.v1.happened",
                subject: &format!("things/{i}"),
                data_type: "procedo.test.v1.Thing",
                data: vec![],
            },
        )
        .await
        .expect("enqueued");
    }
    tx.commit().await.expect("committed");
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(20),
        max: Duration::from_millis(50),
        poll: Duration::from_millis(10),
        batch: 7,
        ..RetryPolicy::default()
    }
}

async fn records(db: &Database, destination: &str) -> Vec<outbox::Record> {
    let page = Page::rows(500, None);
    outbox::list(db, destination, None, None, &page)
        .await
        .expect("listed")
}

async fn two_relays_deliver_every_event_exactly_once_between_them(backend: Backend) {
    let database = TestDatabase::new(backend, "outbox");
    let first = Database::connect(database.options(), NO_TABLES)
        .await
        .expect("db");
    let second = Database::connect(database.options(), NO_TABLES)
        .await
        .expect("db");
    enqueue(&first, "peer", 200).await;
    let recorder = Recorder::default();

    let a = Relay::new(first.clone(), "peer", recorder.clone(), quick());
    let b = Relay::new(second.clone(), "peer", recorder.clone(), quick());
    let (a, b) = tokio::join!(
        async {
            let mut n = 0;
            while let Ok(k @ 1..) = a.deliver_due().await {
                n += k;
            }
            n
        },
        async {
            let mut n = 0;
            while let Ok(k @ 1..) = b.deliver_due().await {
                n += k;
            }
            n
        }
    );

    let seen = recorder.seen.lock().expect("lock").clone();
    assert_eq!(a + b, 200, "each event attempted once in all");
    assert_eq!(seen.len(), 200);
    assert!(seen.values().all(|&count| count == 1));
    assert!(
        records(&first, "peer")
            .await
            .iter()
            .all(|r| r.status == DeliveryStatus::Delivered)
    );
}

async fn a_failed_delivery_is_retried_and_every_attempt_recorded(backend: Backend) {
    let database = TestDatabase::new(backend, "outbox");
    let db = Database::connect(database.options(), NO_TABLES)
        .await
        .expect("db");
    enqueue(&db, "peer", 1).await;
    let recorder = Recorder {
        fail_first: 2,
        ..Recorder::default()
    };
    let relay = Relay::new(db.clone(), "peer", recorder.clone(), quick());
    let (trigger, stop) = procedo_platform::shutdown::channel();
    let running = tokio::spawn(relay.run(stop.wait()));

    let mut delivered = None;
    for _ in 0..200 {
        let list = records(&db, "peer").await;
        if list[0].status == DeliveryStatus::Delivered {
            delivered = Some(list[0].clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    trigger.fire();
    running.await.expect("relay stops");

    let record = delivered.expect("delivered in the end");
    let outcomes: Vec<_> = record
        .attempts
        .iter()
        .map(|a| (a.success, a.outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (false, "refused attempt 1"),
            (false, "refused attempt 2"),
            (true, "ok")
        ]
    );
    let gaps: Vec<_> = record
        .attempts
        .windows(2)
        .map(|w| w[1].at - w[0].at)
        .collect();
    assert!(gaps[0] >= 20 && gaps[1] >= 40, "backoff doubles: {gaps:?}");
}

async fn an_event_without_a_relay_stays_pending(backend: Backend) {
    let database = TestDatabase::new(backend, "outbox");
    let db = Database::connect(database.options(), NO_TABLES)
        .await
        .expect("db");
    enqueue(&db, "nobody-yet", 3).await;
    let relay = Relay::new(db.clone(), "peer", Recorder::default(), quick());

    let attempted = relay.deliver_due().await.expect("ran");

    assert_eq!(attempted, 0);
    let pending = records(&db, "nobody-yet").await;
    assert_eq!(pending.len(), 3);
    assert!(
        pending
            .iter()
            .all(|r| r.status == DeliveryStatus::Pending && r.attempts.is_empty())
    );
    assert_eq!(
        outbox::backlog(&db, "nobody-yet").await.expect("backlog").0,
        3
    );
}

/// Takes `hold` over each delivery, counting them.
#[derive(Clone, Default)]
struct Slow {
    hold: Duration,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Deliver for Slow {
    async fn deliver(&self, event: &Event) -> Outcome {
        tokio::time::sleep(self.hold).await;
        self.seen.lock().expect("lock").push(event.id.clone());
        Outcome::Delivered("ok".into())
    }
}

async fn delivered_within(db: &Database, destination: &str, limit: Duration) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if records(db, destination)
            .await
            .iter()
            .all(|r| r.status == DeliveryStatus::Delivered)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

async fn a_long_delivery_keeps_its_lease_and_a_killed_relays_events_go_out_soon(backend: Backend) {
    let database = TestDatabase::new(backend, "outbox");
    let db = Database::connect(database.options(), NO_TABLES)
        .await
        .expect("db");
    enqueue(&db, "peer", 1).await;
    // Leases long enough that a loaded CI machine's scheduling delays do
    // not lapse them between heartbeats (every third of a lease).
    let policy = RetryPolicy {
        lease: Duration::from_millis(600),
        ..quick()
    };
    // A delivery three leases long, then the relay is killed mid-way.
    let slow = Slow {
        hold: Duration::from_millis(1800),
        ..Slow::default()
    };
    let first = tokio::spawn(
        Relay::new(db.clone(), "peer", slow.clone(), policy).run(std::future::pending()),
    );
    let second = Relay::new(db.clone(), "peer", Recorder::default(), policy);
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..6 {
        assert_eq!(
            second.deliver_due().await.expect("ran"),
            0,
            "the first relay's lease holds while its delivery runs"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    first.abort();
    let _ = first.await;
    assert!(
        slow.seen.lock().expect("lock").is_empty(),
        "killed mid-delivery"
    );

    let recorder = Recorder::default();
    let third = tokio::spawn(
        Relay::new(db.clone(), "peer", recorder.clone(), policy).run(std::future::pending()),
    );
    assert!(
        delivered_within(&db, "peer", Duration::from_secs(3)).await,
        "delivered once the dead relay's lease lapsed"
    );
    third.abort();
    assert_eq!(recorder.seen.lock().expect("lock").len(), 1);
}

/// Refuses while its peer is down; says so when probed.
#[derive(Clone, Default)]
struct Peer {
    up: Arc<AtomicBool>,
}

impl Deliver for Peer {
    async fn deliver(&self, _event: &Event) -> Outcome {
        if self.up.load(Ordering::SeqCst) {
            Outcome::Delivered("ok".into())
        } else {
            Outcome::Retry("connection refused".into())
        }
    }

    async fn probe(&self) -> bool {
        self.up.load(Ordering::SeqCst)
    }
}

async fn a_peer_that_answers_again_gets_its_backlog_at_once_not_after_the_backoff(
    backend: Backend,
) {
    let database = TestDatabase::new(backend, "outbox");
    let db = Database::connect(database.options(), NO_TABLES)
        .await
        .expect("db");
    enqueue(&db, "peer", 20).await;
    // After its first failure each event waits a minute.
    let policy = RetryPolicy {
        base: Duration::from_secs(60),
        max: Duration::from_secs(300),
        probe: Duration::from_millis(100),
        ..quick()
    };
    let peer = Peer::default();
    let relay = tokio::spawn(
        Relay::new(db.clone(), "peer", peer.clone(), policy).run(std::future::pending()),
    );
    for _ in 0..300 {
        if records(&db, "peer")
            .await
            .iter()
            .all(|r| !r.attempts.is_empty())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    peer.up.store(true, Ordering::SeqCst);
    let drained = delivered_within(&db, "peer", Duration::from_secs(5)).await;
    relay.abort();
    assert!(drained, "the backlog drained soon after the peer answered");
}

async fn an_unreachable_peer_never_turns_events_failed_however_many_attempts(backend: Backend) {
    let database = TestDatabase::new(backend, "outbox");
    let db = Database::connect(database.options(), NO_TABLES)
        .await
        .expect("db");
    enqueue(&db, "peer", 1).await;
    let policy = RetryPolicy {
        base: Duration::from_millis(1),
        max: Duration::from_millis(2),
        ..quick()
    };
    let relay = Relay::new(db.clone(), "peer", Peer::default(), policy);
    let mut attempts = 0;
    while attempts < 30 {
        attempts += relay.deliver_due().await.expect("ran");
        tokio::time::sleep(Duration::from_millis(3)).await;
    }

    let record = &records(&db, "peer").await[0];
    assert_eq!(record.attempts.len(), 30);
    assert_eq!(record.status, DeliveryStatus::Pending, "still trying");
}
