//! The transactional outbox: an event is written in the same transaction as
//! the state change it describes, and a [`Relay`] delivers it afterwards,
//! retrying with exponential backoff and recording every attempt.
//!
//! Each row names a *destination* (a webhook, a peer service); one relay
//! serves one destination. Rows of a destination with no relay running stay
//! pending — kept, not dropped — until one is configured.
//!
//! Several replicas may run the same relay: a batch is claimed by setting a
//! lease on its rows, on PostgreSQL under `FOR UPDATE SKIP LOCKED` so
//! replicas take disjoint batches; on SQLite the single writer serialises
//! claims. A replica that dies mid-batch leaves leases that simply expire.
//!
//! Tables (in every service's migrations): `outbox`, `outbox_attempts`.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use procedo_proto::common::Event;
use procedo_proto::events;
use prost::Message as _;
use sqlx::{AnyConnection, Row as _};
use tokio::sync::watch;
use tracing::Instrument as _;

use crate::db::{Backend, Database};
use crate::error::Error;
use crate::identity::Actor;
use crate::mutation::Commits;
use crate::paging::Page;
use crate::telemetry;
use crate::time::{self, Millis};
use crate::writes::Writes;

/// Where an outbox row is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Gave up after the last attempt.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> DeliveryStatus {
        match s {
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            _ => DeliveryStatus::Pending,
        }
    }
}

/// A fact to publish, before it gets its envelope.
#[derive(Debug)]
pub struct NewEvent<'a> {
    /// Who receives it, e.g. "customer" or "audit".
    pub destination: &'a str,
    /// e.g. "procedo.intake.v1.application.status_changed"; see
    /// [`procedo_proto::events`].
    pub event_type: &'a str,
    /// e.g. "applications/0192…".
    pub subject: &'a str,
    /// Fully qualified protobuf name of `data`, e.g. events::intake::STATUS_CHANGED.
    pub data_type: &'a str,
    pub data: Vec<u8>,
}

/// Writes `event` into the outbox inside the caller's transaction, with the
/// CloudEvents envelope, the actor and the current trace context. Returns
/// the event id.
pub async fn enqueue(
    tx: &mut AnyConnection,
    source: &str,
    actor: &Actor,
    event: NewEvent<'_>,
) -> Result<String, Error> {
    let mut batch = Batch::default();
    let id = batch.enqueue(source, actor, event);
    batch.write(tx).await?;
    Ok(id)
}

/// Destination of audit records (delivered to the compliance service).
pub const AUDIT: &str = "audit";

/// Queues the audit record of a mutation: who did what to which resource,
/// in which trace.
pub async fn audit(
    tx: &mut AnyConnection,
    source: &str,
    actor: &Actor,
    action: &str,
    resource: &str,
    detail: String,
) -> Result<(), Error> {
    let mut batch = Batch::default();
    batch.audit(source, actor, action, resource, detail);
    batch.write(tx).await
}

/// Events gathered by a use case and written together, in one statement,
/// when it is ready to commit: a write path that queues several events
/// pays one round trip for them, not one each.
#[derive(Debug, Default)]
pub struct Batch {
    rows: Vec<Queued>,
}

#[derive(Debug)]
struct Queued {
    id: String,
    destination: String,
    event_type: String,
    subject: String,
    payload: Vec<u8>,
    at: Millis,
}

impl Batch {
    /// Adds `event` with its envelope (see [`enqueue`]); its id.
    pub fn enqueue(&mut self, source: &str, actor: &Actor, event: NewEvent<'_>) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        let at = time::now();
        let (traceparent, tracestate) = telemetry::current_traceparent();
        let envelope = Event {
            id: id.clone(),
            source: source.to_owned(),
            r#type: event.event_type.to_owned(),
            subject: event.subject.to_owned(),
            time: Some(time::to_timestamp(at)),
            actor: Some(actor.to_proto()),
            traceparent,
            tracestate,
            data: Some(prost_types::Any {
                type_url: format!("type.googleapis.com/{}", event.data_type),
                value: event.data,
            }),
            // The database numbers the row; the relay fills it in.
            sequence: 0,
        };
        self.rows.push(Queued {
            id: id.clone(),
            destination: event.destination.to_owned(),
            event_type: event.event_type.to_owned(),
            subject: event.subject.to_owned(),
            payload: envelope.encode_to_vec(),
            at,
        });
        id
    }

    /// Adds the audit record of a mutation (see [`audit`]).
    pub fn audit(
        &mut self,
        source: &str,
        actor: &Actor,
        action: &str,
        resource: &str,
        detail: String,
    ) {
        let record = procedo_proto::common::AuditRecord {
            action: action.to_owned(),
            resource: resource.to_owned(),
            detail,
            trace_id: telemetry::current_trace_id(),
        };
        self.enqueue(
            source,
            actor,
            NewEvent {
                destination: AUDIT,
                event_type: events::AUDIT,
                subject: resource,
                data_type: events::AUDIT_RECORD,
                data: record.encode_to_vec(),
            },
        );
    }

    /// Writes every event gathered, in the order added (which is the order
    /// the relays deliver them in), inside the caller's transaction.
    pub async fn write(self, tx: &mut AnyConnection) -> Result<(), Error> {
        let mut writes = Writes::new(Backend::of(tx));
        self.push_into(&mut writes);
        writes.run(tx).await
    }

    /// Adds the statement writing every event gathered to `writes` (see
    /// [`Batch::write`]).
    pub fn push_into(self, writes: &mut Writes) {
        if self.rows.is_empty() {
            return;
        }
        let sql = format!(
            "INSERT INTO outbox (id, destination, event_type, subject, payload, status, attempts, \
             next_attempt_at, lease_until, created_at) VALUES {}",
            crate::query::values(writes.backend(), self.rows.len(), 10)
        );
        let write = writes.push(sql);
        for row in self.rows {
            write
                .bind(row.id)
                .bind(row.destination)
                .bind(row.event_type)
                .bind(row.subject)
                .bind(row.payload)
                .bind(DeliveryStatus::Pending.as_str())
                .bind(0_i64)
                .bind(row.at)
                .bind(0_i64)
                .bind(row.at);
        }
    }
}

/// One delivery attempt as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at: Millis,
    pub success: bool,
    pub outcome: String,
}

/// An outbox row with its attempts.
#[derive(Debug, Clone)]
pub struct Record {
    pub event: Event,
    pub destination: String,
    pub status: DeliveryStatus,
    pub created_at: Millis,
    pub next_attempt_at: Millis,
    pub attempts: Vec<Attempt>,
}

const RECORD_COLUMNS: &str = "id, destination, payload, status, created_at, next_attempt_at, seq";

/// Lists a destination's events, newest first, optionally only those about
/// `subject` or in `status`.
pub async fn list(
    db: &Database,
    destination: &str,
    subject: Option<&str>,
    status: Option<DeliveryStatus>,
    page: &Page,
) -> Result<Vec<Record>, sqlx::Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {RECORD_COLUMNS} FROM outbox \
         WHERE destination = $1 AND ($2 = '' OR subject = $2) AND ($3 = '' OR status = $3) \
         AND ($4 = '' OR id < $4) ORDER BY id DESC LIMIT $5"
    )))
    .bind(destination)
    .bind(subject.unwrap_or(""))
    .bind(status.map(DeliveryStatus::as_str).unwrap_or(""))
    .bind(page.after.as_deref().unwrap_or(""))
    .bind(page.fetch_limit())
    .fetch_all(db.reader())
    .await?;
    records(db, rows).await
}

/// The event `id`, whatever its destination.
pub async fn get(db: &Database, id: &str) -> Result<Option<Record>, sqlx::Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {RECORD_COLUMNS} FROM outbox WHERE id = $1"
    )))
    .bind(id)
    .fetch_all(db.reader())
    .await?;
    Ok(records(db, rows).await?.pop())
}

/// The records of outbox `rows`, with their attempts.
async fn records(db: &Database, rows: Vec<sqlx::any::AnyRow>) -> Result<Vec<Record>, sqlx::Error> {
    // One query for the attempts: ids are time-ordered, so the rows'
    // attempts lie between their first and last id.
    let ids: Vec<String> = rows
        .iter()
        .map(|row| row.try_get::<String, _>("id"))
        .collect::<Result<_, _>>()?;
    let (Some(low), Some(high)) = (ids.iter().min(), ids.iter().max()) else {
        return Ok(Vec::new());
    };
    let mut attempts: HashMap<String, Vec<Attempt>> = HashMap::new();
    for a in sqlx::query(
        "SELECT event_id, at, success, outcome FROM outbox_attempts \
         WHERE event_id >= $1 AND event_id <= $2 ORDER BY event_id, attempt",
    )
    .bind(low)
    .bind(high)
    .fetch_all(db.reader())
    .await?
    {
        attempts
            .entry(a.try_get("event_id")?)
            .or_default()
            .push(Attempt {
                at: a.try_get("at")?,
                success: a.try_get::<i64, _>("success")? != 0,
                outcome: a.try_get("outcome")?,
            });
    }
    let mut records = Vec::with_capacity(rows.len());
    for (row, id) in rows.iter().zip(ids) {
        let payload: Vec<u8> = row.try_get("payload")?;
        let mut event =
            Event::decode(payload.as_slice()).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        event.sequence = row.try_get("seq")?;
        records.push(Record {
            event,
            destination: row.try_get("destination")?,
            status: DeliveryStatus::parse(&row.try_get::<String, _>("status")?),
            created_at: row.try_get("created_at")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
            attempts: attempts.remove(&id).unwrap_or_default(),
        });
    }
    Ok(records)
}

/// One destination's queue: events pending and failed, and when the
/// oldest pending one was queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    pub destination: String,
    pub pending: i64,
    pub failed: i64,
    pub oldest_pending: Option<Millis>,
}

/// Every destination with events queued, by name.
pub async fn queues(db: &Database) -> Result<Vec<Queue>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT destination, \
           CAST(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS BIGINT) AS pending, \
           CAST(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failed, \
           CAST(MIN(CASE WHEN status = 'pending' THEN created_at END) AS BIGINT) AS oldest \
         FROM outbox GROUP BY destination ORDER BY destination",
    )
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Queue {
                destination: row.try_get("destination")?,
                pending: row.try_get("pending")?,
                failed: row.try_get("failed")?,
                oldest_pending: row.try_get("oldest")?,
            })
        })
        .collect()
}

/// What [`retry`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retried {
    /// Queued again, for `destination`.
    Queued { destination: String },
    /// No event has the id.
    Missing,
    /// The event is not FAILED: its status.
    NotFailed(DeliveryStatus),
}

/// Queues failed event `id` again, due now; its attempts go on being
/// numbered from the last.
pub async fn retry(db: &Database, id: &str) -> Result<Retried, sqlx::Error> {
    let mut tx = db.begin().await?;
    let queued: Option<String> = sqlx::query_scalar(
        "UPDATE outbox SET status = 'pending', next_attempt_at = $1, lease_until = 0 \
         WHERE id = $2 AND status = 'failed' RETURNING destination",
    )
    .bind(time::now())
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    if let Some(destination) = queued {
        return Ok(Retried::Queued { destination });
    }
    // Not queued again: say why.
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_optional(db.reader())
        .await?;
    Ok(status.map_or(Retried::Missing, |s| {
        Retried::NotFailed(DeliveryStatus::parse(&s))
    }))
}

/// Pending events of a destination and the age of the oldest, for metrics
/// and health.
pub async fn backlog(
    db: &Database,
    destination: &str,
) -> Result<(i64, Option<Millis>), sqlx::Error> {
    let row = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n, CAST(MIN(created_at) AS BIGINT) AS oldest \
         FROM outbox WHERE destination = $1 AND status = 'pending'",
    )
    .bind(destination)
    .fetch_one(db.reader())
    .await?;
    Ok((row.try_get("n")?, row.try_get("oldest")?))
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered; the text says what the receiver answered.
    Delivered(String),
    /// Not delivered; try again later.
    Retry(String),
    /// Not delivered and retrying cannot help (the receiver refused it).
    Reject(String),
}

/// One delivery attempt of one event, to record.
#[derive(Debug)]
struct Tried {
    id: String,
    event_type: String,
    /// 1 for the first attempt.
    number: u32,
    outcome: Outcome,
}

/// Delivers one event to a destination.
pub trait Deliver: Send + Sync + 'static {
    fn deliver(&self, event: &Event) -> impl Future<Output = Outcome> + Send;

    /// Delivers `events` (in order) in one exchange, one outcome each;
    /// `None` from a destination that takes one at a time, whose events
    /// then go one by one.
    fn deliver_many(&self, _events: &[Event]) -> impl Future<Output = Option<Vec<Outcome>>> + Send {
        async { None }
    }

    /// Whether the destination answers again, asked while its events wait
    /// out their backoff: true lets them go at once. Destinations that
    /// cannot tell answer false, and their events wait out the backoff.
    fn probe(&self) -> impl Future<Output = bool> + Send {
        async { false }
    }
}

/// How a relay retries.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Delay after the first failure; doubles with every further failure.
    /// Only a receiver's refusal fails an event: one that cannot be reached
    /// is retried for as long as it takes.
    pub base: Duration,
    /// Longest delay between attempts.
    pub max: Duration,
    /// How often the relay looks for due events when nothing wakes it.
    pub poll: Duration,
    /// How long a claimed batch is reserved for this relay; extended while
    /// its deliveries run, so a relay that dies frees its events this soon.
    pub lease: Duration,
    /// Events claimed at once.
    pub batch: i64,
    /// Longest time one delivery may take.
    pub timeout: Duration,
    /// How often a destination whose events wait out their backoff is
    /// asked whether it answers again ([`Deliver::probe`]).
    pub probe: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_secs(1),
            max: Duration::from_secs(300),
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(5),
            batch: 32,
            timeout: Duration::from_secs(10),
            probe: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// Delay before attempt `attempts + 1`, after `attempts` failures.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let exp = attempts.saturating_sub(1).min(30);
        self.base.saturating_mul(1u32 << exp).min(self.max)
    }
}

/// Delivers one destination's events.
#[derive(Debug)]
pub struct Relay<D> {
    db: Database,
    destination: String,
    deliverer: D,
    policy: RetryPolicy,
    wake: Option<watch::Receiver<u64>>,
    /// Whose leases this relay's claims are: the same across restarts of
    /// one supervised relay, so a restart frees what the failed run held.
    owner: String,
}

impl<D: Deliver> Relay<D> {
    pub fn new(db: Database, destination: &str, deliverer: D, policy: RetryPolicy) -> Self {
        Relay {
            db,
            destination: destination.to_owned(),
            deliverer,
            policy,
            wake: None,
            owner: uuid::Uuid::now_v7().to_string(),
        }
    }

    /// Delivers as soon as `commits` says new events are committed, instead
    /// of at the next poll.
    #[must_use]
    pub fn woken_by(mut self, commits: &Commits) -> Self {
        self.wake = Some(commits.subscribe());
        self
    }

    /// Claims as `owner` (see [`Relay`]'s field of that name).
    #[must_use]
    pub fn owned_by(mut self, owner: &str) -> Self {
        owner.clone_into(&mut self.owner);
        self
    }

    /// Delivers until `shutdown` resolves. Database errors are logged and
    /// retried at the next poll; they never end the loop.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        if let Err(e) = self.release().await {
            tracing::warn!(destination = %self.destination, error = %e, "could not free this relay's earlier leases; they lapse instead");
        }
        // Events an earlier run left waiting out a backoff go at the first
        // sign the destination answers.
        let mut backing_off = true;
        let mut probed = tokio::time::Instant::now();
        loop {
            let (attempted, delivered) = match self.deliver_batch().await {
                Ok(counts) => counts,
                Err(e) => {
                    tracing::warn!(destination = %self.destination, error = %e, "outbox relay failed; retrying");
                    (0, 0)
                }
            };
            if delivered > 0 && backing_off {
                // The destination answers again: what waits out its backoff
                // goes now.
                backing_off = false;
                self.hurry().await;
            }
            backing_off |= attempted > delivered;
            if attempted > 0 {
                continue;
            }
            if backing_off && probed.elapsed() >= self.policy.probe {
                probed = tokio::time::Instant::now();
                if self.deliverer.probe().await {
                    tracing::info!(destination = %self.destination, "destination answers again; delivering its backlog");
                    backing_off = false;
                    self.hurry().await;
                    continue;
                }
            }
            let woken = async {
                let woke = match self.wake.as_mut() {
                    Some(wake) => wake.changed().await.is_ok(),
                    None => false,
                };
                if !woke {
                    // Nothing wakes this relay (or nothing can any more):
                    // it polls.
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = woken => {}
                () = tokio::time::sleep(self.policy.poll) => {}
            }
        }
    }

    /// Claims and attempts one batch of due events; returns how many were
    /// attempted.
    pub async fn deliver_due(&self) -> Result<usize, sqlx::Error> {
        Ok(self.deliver_batch().await?.0)
    }

    /// One batch: how many events were attempted, and how many delivered.
    async fn deliver_batch(&self) -> Result<(usize, usize), sqlx::Error> {
        let batch = self.claim().await?;
        let attempted = batch.len();
        if attempted > 1 {
            let events: Vec<Event> = batch.iter().map(|(_, e, _)| e.clone()).collect();
            let span = tracing::info_span!("outbox.deliver_batch", destination = %self.destination, events = attempted);
            let many = self
                .with_leases(self.deliverer.deliver_many(&events))
                .instrument(span);
            let outcomes = match many.await? {
                Some(Some(outcomes)) if outcomes.len() == attempted => Some(outcomes),
                Some(Some(_)) => Some(vec![
                    Outcome::Retry(
                        "the receiver answered for a different number of events".into()
                    );
                    attempted
                ]),
                Some(None) => None,
                None => Some(vec![self.timed_out(); attempted]),
            };
            if let Some(outcomes) = outcomes {
                let delivered = outcomes
                    .iter()
                    .filter(|o| matches!(o, Outcome::Delivered(_)))
                    .count();
                let attempts: Vec<Tried> = batch
                    .into_iter()
                    .zip(outcomes)
                    .map(|((id, event, attempts), outcome)| Tried {
                        id,
                        event_type: event.r#type,
                        number: attempts + 1,
                        outcome,
                    })
                    .collect();
                self.record_all(&attempts).await?;
                return Ok((attempted, delivered));
            }
        }
        let mut delivered = 0;
        for (id, event, attempts) in batch {
            let outcome = self.attempt(&id, &event).await?;
            delivered += usize::from(matches!(outcome, Outcome::Delivered(_)));
            self.record_all(&[Tried {
                id,
                event_type: event.r#type,
                number: attempts + 1,
                outcome,
            }])
            .await?;
        }
        Ok((attempted, delivered))
    }

    fn timed_out(&self) -> Outcome {
        Outcome::Retry(format!("no answer within {:?}", self.policy.timeout))
    }

    /// Runs `work` for at most the delivery timeout (`None` after it),
    /// keeping this relay's leases alive meanwhile.
    async fn with_leases<T>(
        &self,
        work: impl Future<Output = T>,
    ) -> Result<Option<T>, sqlx::Error> {
        let work = tokio::time::timeout(self.policy.timeout, work);
        tokio::pin!(work);
        let heartbeat = self.policy.lease / 3;
        loop {
            tokio::select! {
                done = &mut work => return Ok(done.ok()),
                () = tokio::time::sleep(heartbeat) => self.extend().await?,
            }
        }
    }

    /// One delivery, keeping this relay's leases alive while it runs.
    async fn attempt(&self, id: &str, event: &Event) -> Result<Outcome, sqlx::Error> {
        let span = tracing::info_span!("outbox.deliver", destination = %self.destination, event.id = %id, event.r#type = %event.r#type);
        telemetry::join_trace(&span, &event.traceparent, &event.tracestate);
        // The span is attached to the future, never entered across an
        // await: an entered guard held over an await leaves the span
        // current on whichever thread resumes, and tracing panics.
        let delivery = self.deliverer.deliver(event).instrument(span);
        Ok(self
            .with_leases(delivery)
            .await?
            .unwrap_or_else(|| self.timed_out()))
    }

    async fn claim(&self) -> Result<Vec<(String, Event, u32)>, sqlx::Error> {
        let now = time::now();
        let lease_until = now + time::duration_ms(self.policy.lease);
        let sql = match self.db.backend() {
            Backend::Postgres => {
                "UPDATE outbox SET lease_until = $1, lease_owner = $5 WHERE id IN (\
                   SELECT id FROM outbox WHERE destination = $2 AND status = 'pending' \
                   AND next_attempt_at <= $3 AND lease_until <= $3 \
                   ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, payload, attempts, seq"
            }
            Backend::Sqlite => {
                "UPDATE outbox SET lease_until = $1, lease_owner = $5 WHERE id IN (\
                   SELECT id FROM outbox WHERE destination = $2 AND status = 'pending' \
                   AND next_attempt_at <= $3 AND lease_until <= $3 \
                   ORDER BY next_attempt_at, id LIMIT $4) \
                 RETURNING id, payload, attempts, seq"
            }
        };
        let mut tx = self.db.begin().await?;
        let rows = sqlx::query(sql)
            .bind(lease_until)
            .bind(&self.destination)
            .bind(now)
            .bind(self.policy.batch)
            .bind(&self.owner)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut batch = rows
            .into_iter()
            .map(|row| {
                let payload: Vec<u8> = row.try_get("payload")?;
                let mut event = Event::decode(payload.as_slice())
                    .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
                // Numbered by the database as the row was written.
                event.sequence = row.try_get("seq")?;
                let attempts: i64 = row.try_get("attempts")?;
                let id: String = row.try_get("id")?;
                Ok((id, event, u32::try_from(attempts).unwrap_or(u32::MAX)))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        // RETURNING has no order; ids are time-ordered, so this is the order
        // the events happened in.
        batch.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(batch)
    }

    /// Pushes back the lapse of every lease this relay holds.
    async fn extend(&self) -> Result<(), sqlx::Error> {
        let lease_until = time::now() + time::duration_ms(self.policy.lease);
        self.leases(lease_until).await
    }

    /// Frees every lease this relay's owner holds (from a run that failed).
    async fn release(&self) -> Result<(), sqlx::Error> {
        self.leases(0).await
    }

    async fn leases(&self, lease_until: Millis) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "UPDATE outbox SET lease_until = $1 WHERE destination = $2 AND lease_owner = $3 \
             AND status = 'pending' AND lease_until > 0",
        )
        .bind(lease_until)
        .bind(&self.destination)
        .bind(&self.owner)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Makes the destination's events that wait out a backoff due now.
    async fn hurry(&self) {
        let now = time::now();
        let hurried = async {
            let mut tx = self.db.begin().await?;
            sqlx::query(
                "UPDATE outbox SET next_attempt_at = $1 WHERE destination = $2 \
                 AND status = 'pending' AND next_attempt_at > $1",
            )
            .bind(now)
            .bind(&self.destination)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        };
        if let Err(e) = hurried.await {
            tracing::warn!(destination = %self.destination, error = %e, "could not hurry the backlog; it waits out its backoff");
        }
    }

    /// Records each attempt and its event's new state, in one
    /// transaction.
    async fn record_all(&self, attempts: &[Tried]) -> Result<(), sqlx::Error> {
        let now = time::now();
        let mut tx = self.db.begin().await?;
        for Tried {
            id,
            event_type,
            number: attempt,
            outcome,
        } in attempts
        {
            let attempt = *attempt;
            let (success, text) = match outcome {
                Outcome::Delivered(t) => (true, t),
                Outcome::Retry(t) | Outcome::Reject(t) => (false, t),
            };
            let status = match outcome {
                Outcome::Delivered(_) => DeliveryStatus::Delivered,
                Outcome::Reject(_) => DeliveryStatus::Failed,
                Outcome::Retry(_) => DeliveryStatus::Pending,
            };
            crate::metrics::delivery_attempted(
                &self.destination,
                match status {
                    DeliveryStatus::Delivered => "delivered",
                    DeliveryStatus::Pending => "retry",
                    DeliveryStatus::Failed => "refused",
                },
            );
            let backoff = self.policy.backoff(attempt);
            let next = now + time::duration_ms(backoff);
            let destination = &self.destination;
            match status {
                DeliveryStatus::Delivered => {
                    tracing::debug!(%destination, event.id = %id, event.r#type = %event_type, attempt, "delivered")
                }
                DeliveryStatus::Pending => tracing::info!(
                    %destination,
                    event.id = %id,
                    event.r#type = %event_type,
                    attempt,
                    retry_in = ?backoff,
                    outcome = %text,
                    "delivery failed; will retry"
                ),
                DeliveryStatus::Failed => tracing::warn!(
                    %destination,
                    event.id = %id,
                    event.r#type = %event_type,
                    attempt,
                    outcome = %text,
                    "delivery refused; giving up"
                ),
            }
            sqlx::query(
                "INSERT INTO outbox_attempts (event_id, attempt, at, success, outcome) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(i64::from(attempt))
            .bind(now)
            .bind(i64::from(success))
            .bind(truncate(text, 1000))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE outbox SET status = $1, attempts = $2, next_attempt_at = $3, lease_until = 0 \
                 WHERE id = $4",
            )
            .bind(status.as_str())
            .bind(i64::from(attempt))
            .bind(next)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_stops_at_the_cap() {
        let policy = RetryPolicy {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        let delays: Vec<_> = (1..=6).map(|a| policy.backoff(a).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(1));
    }
}

/// Delivers events to a peer service's `EventSinkService` over gRPC.
#[derive(Debug, Clone)]
pub struct GrpcSink {
    /// Whether events go many to a call (`DeliverBatch`).
    batched: bool,
    channel: crate::outgoing::Outgoing,
    client: procedo_proto::common::event_sink_service_client::EventSinkServiceClient<
        tonic::service::interceptor::InterceptedService<
            crate::outgoing::Outgoing,
            crate::auth::ServiceAuth,
        >,
    >,
}

impl GrpcSink {
    /// A sink at `endpoint` (made by the service's
    /// [`crate::tls::Dialer`]); connects lazily, so a peer that is down
    /// only delays delivery.
    pub fn new(
        endpoint: tonic::transport::Endpoint,
        credentials: crate::auth::ServiceCredentials,
        timeout: Duration,
    ) -> GrpcSink {
        let channel = crate::outgoing::traced(
            &endpoint
                .connect_timeout(timeout)
                .timeout(timeout)
                .http2_adaptive_window(true)
                .http2_keep_alive_interval(crate::server::KEEPALIVE_INTERVAL)
                .keep_alive_timeout(crate::server::KEEPALIVE_TIMEOUT),
        );
        GrpcSink {
            batched: false,
            channel: channel.clone(),
            client: procedo_proto::common::event_sink_service_client::EventSinkServiceClient::with_interceptor(
                channel,
                crate::auth::ServiceAuth(credentials),
            ),
        }
    }
}

impl GrpcSink {
    /// The same sink, sending a relay's claimed events in one
    /// `DeliverBatch` call: for audit records, which must keep up with
    /// every other service's changes. (Each event still joins its own
    /// trace where it is applied.)
    pub fn batched(self) -> GrpcSink {
        GrpcSink {
            batched: true,
            ..self
        }
    }
}

/// The outcome a refusal or a failed call means.
fn failed(status: &tonic::Status) -> Outcome {
    // The receiver will never take a malformed event; anything else
    // (down, overloaded, not yet configured) may pass later.
    if status.code() == tonic::Code::InvalidArgument {
        Outcome::Reject(format!("{:?}: {}", status.code(), status.message()))
    } else {
        Outcome::Retry(format!("{:?}: {}", status.code(), status.message()))
    }
}

impl Deliver for GrpcSink {
    async fn deliver_many(&self, events: &[Event]) -> Option<Vec<Outcome>> {
        if !self.batched {
            return None;
        }
        let mut client = self.client.clone();
        let request = procedo_proto::common::DeliverBatchRequest {
            events: events.to_vec(),
        };
        Some(match client.deliver_batch(request).await {
            Ok(response) => response
                .into_inner()
                .results
                .into_iter()
                .map(|r| {
                    if !r.refused.is_empty() {
                        Outcome::Reject(format!("refused: {}", r.refused))
                    } else if r.duplicate {
                        Outcome::Delivered("already received".into())
                    } else {
                        Outcome::Delivered("received".into())
                    }
                })
                .collect(),
            // A whole batch refused is not any one event's fault: they go
            // again (one by one, should the receiver not batch at all).
            Err(status) if status.code() == tonic::Code::Unimplemented => return None,
            Err(status) => vec![
                Outcome::Retry(format!("{:?}: {}", status.code(), status.message()));
                events.len()
            ],
        })
    }

    async fn deliver(&self, event: &Event) -> Outcome {
        let mut client = self.client.clone();
        let request = procedo_proto::common::DeliverRequest {
            event: Some(event.clone()),
        };
        match client.deliver(request).await {
            Ok(response) if response.get_ref().duplicate => {
                Outcome::Delivered("already received".into())
            }
            Ok(_) => Outcome::Delivered("received".into()),
            Err(status) => failed(&status),
        }
    }

    async fn probe(&self) -> bool {
        let mut health = tonic_health::pb::health_client::HealthClient::new(self.channel.clone());
        let asked = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: "procedo.common.v1.EventSinkService".into(),
            })
            .await;
        matches!(asked, Ok(answer) if answer.get_ref().status()
            == tonic_health::pb::health_check_response::ServingStatus::Serving)
    }
}
