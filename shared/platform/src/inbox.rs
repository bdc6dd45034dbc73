//! The receiving side of events: every service's `EventSinkService` is the
//! one [`Sink`] here. Only other services (the `service` role) may deliver;
//! each event id is applied once, in the transaction that records it as
//! received, and a redelivery is acknowledged as a duplicate.

use std::future::Future;
use std::sync::Arc;

use procedo_proto::common::{self, Event};
use procedo_proto::events;
use sqlx::AnyConnection;
use tonic::{Request, Response, Status};
use tracing::Instrument as _;

use crate::auth::authorize;
use crate::calendars::{self, Calendars, Recompute};
use crate::error::Error;
use crate::identity::Role;
use crate::mutation::Mutations;
use crate::validate::Violations;

/// How a service applies the events its peers deliver.
pub trait Events: Send + Sync + 'static {
    /// What the service learns from applying an event, for
    /// [`Events::committed`].
    type Applied: Send;

    /// Applies `event` inside the transaction that records it as received.
    /// Events of types the service does not follow are applied as nothing.
    fn apply(
        &self,
        tx: &mut AnyConnection,
        event: &Event,
    ) -> impl Future<Output = Result<Self::Applied, Error>> + Send;

    /// Runs once the event's transaction committed (to wake watchers).
    fn committed(&self, applied: Self::Applied);

    /// Whether the service can ever take `event`, asked before anything
    /// is stored: an event of a batch it refuses is refused alone. Takes
    /// everything unless a service says otherwise.
    fn check(&self, _event: &Event) -> Result<(), Error> {
        Ok(())
    }

    /// Applies fresh `events`, in order, inside one transaction (a batch
    /// delivery). One by one unless a service does better; each joins the
    /// trace it came from.
    fn apply_batch(
        &self,
        tx: &mut AnyConnection,
        events: &[&Event],
    ) -> impl Future<Output = Result<Vec<Self::Applied>, Error>> + Send {
        async move {
            let mut applied = Vec::with_capacity(events.len());
            for event in events {
                let span = tracing::info_span!("inbox.apply", event.id = %event.id, event.r#type = %event.r#type);
                crate::telemetry::join_trace(&span, &event.traceparent, &event.tracestate);
                applied.push(self.apply(tx, event).instrument(span).await?);
            }
            Ok(applied)
        }
    }
}

/// A service's `procedo.common.v1.EventSinkService`. Calendar versions
/// from the keeper are applied here, for every service alike; the rest go
/// to the service's [`Events`].
pub struct Sink<E> {
    mutations: Mutations,
    events: E,
    calendars: Option<(Calendars, Arc<dyn Recompute>)>,
}

impl<E> std::fmt::Debug for Sink<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink").finish_non_exhaustive()
    }
}

impl<E> Sink<E> {
    pub fn new(mutations: Mutations, events: E) -> Sink<E> {
        Sink {
            mutations,
            events,
            calendars: None,
        }
    }

    /// Applies the keeper's calendar versions to `calendars`, recomputing
    /// deadlines with `recompute`.
    pub fn with_calendars(mut self, calendars: Calendars, recompute: Arc<dyn Recompute>) -> Self {
        self.calendars = Some((calendars, recompute));
        self
    }
}

/// Records `event` as received. False when it had been received before: the
/// caller acknowledges it and applies nothing.
pub async fn receive(tx: &mut AnyConnection, event: &Event) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO inbox (event_id, source, event_type, received_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(&event.id)
    .bind(&event.source)
    .bind(&event.r#type)
    .bind(crate::time::now())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The most events one `DeliverBatch` takes.
pub const MAX_BATCH: usize = 500;

/// What is wrong with `event`'s envelope, if anything.
fn check_envelope(event: &Event) -> Result<(), Error> {
    let mut v = Violations::new();
    v.required_line("event.id", &event.id, 100);
    v.required_line("event.source", &event.source, 200);
    v.required_line("event.type", &event.r#type, 200);
    v.finish()
}

fn refusal(e: &Error) -> String {
    match e {
        Error::Invalid(violations) => violations
            .iter()
            .map(|f| format!("{}: {}", f.field, f.description))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

impl<E: Events> Sink<E> {
    /// Applies the events of a batch that can be taken, in order, in one
    /// transaction; the result of each.
    async fn deliver_batch(
        &self,
        events: Vec<Event>,
    ) -> Result<Vec<common::DeliveryResult>, Error> {
        let mut results: Vec<common::DeliveryResult> = events
            .iter()
            .map(|e| common::DeliveryResult {
                event_id: e.id.clone(),
                duplicate: false,
                refused: check_envelope(e)
                    .and_then(|()| self.events.check(e))
                    .err()
                    .map(|e| refusal(&e))
                    .unwrap_or_default(),
            })
            .collect();
        let mut tx = self.mutations.db().begin().await?;
        let mut applied = Vec::new();
        let mut run: Vec<&Event> = Vec::new();
        let mut versions = Vec::new();
        for (event, result) in events.iter().zip(results.iter_mut()) {
            if !result.refused.is_empty() {
                continue;
            }
            if !receive(&mut tx, event).await? {
                result.duplicate = true;
                continue;
            }
            if event.r#type == events::calendar::CHANGED
                && let Some((calendars, recompute)) = &self.calendars
            {
                // In order: what came before the calendar is applied first.
                applied.extend(self.events.apply_batch(&mut tx, &run).await?);
                run.clear();
                versions.push((
                    calendars,
                    calendars::apply_event(&mut tx, event, recompute.as_ref()).await?,
                ));
                continue;
            }
            run.push(event);
        }
        applied.extend(self.events.apply_batch(&mut tx, &run).await?);
        tx.commit().await?;
        self.mutations.committed();
        for (calendars, version) in versions {
            if let Some(version) = version {
                calendars.install(version);
            }
        }
        for a in applied {
            self.events.committed(a);
        }
        Ok(results)
    }

    async fn deliver(&self, event: Event) -> Result<bool, Error> {
        check_envelope(&event)?;
        self.events.check(&event)?;
        let mut tx = self.mutations.db().begin().await?;
        if !receive(&mut tx, &event).await? {
            return Ok(false);
        }
        if event.r#type == events::calendar::CHANGED
            && let Some((calendars, recompute)) = &self.calendars
        {
            let version = calendars::apply_event(&mut tx, &event, recompute.as_ref()).await?;
            tx.commit().await?;
            self.mutations.committed();
            if let Some(version) = version {
                calendars.install(version);
            }
            return Ok(true);
        }
        let applied = self.events.apply(&mut tx, &event).await?;
        tx.commit().await?;
        self.mutations.committed();
        self.events.committed(applied);
        Ok(true)
    }
}

#[tonic::async_trait]
impl<E: Events> common::event_sink_service_server::EventSinkService for Sink<E> {
    async fn deliver(
        &self,
        r: Request<common::DeliverRequest>,
    ) -> Result<Response<common::DeliverResponse>, Status> {
        authorize(&r, &[Role::Service])?;
        let event = r.into_inner().event.unwrap_or_default();
        let fresh = self.deliver(event).await?;
        Ok(Response::new(common::DeliverResponse { duplicate: !fresh }))
    }

    async fn deliver_batch(
        &self,
        r: Request<common::DeliverBatchRequest>,
    ) -> Result<Response<common::DeliverBatchResponse>, Status> {
        authorize(&r, &[Role::Service])?;
        let events = r.into_inner().events;
        if events.len() > MAX_BATCH {
            return Err(Error::invalid(
                "events",
                format!(
                    "at most {MAX_BATCH} events in one batch, not {}",
                    events.len()
                ),
            )
            .into());
        }
        let results = Sink::deliver_batch(self, events).await?;
        Ok(Response::new(common::DeliverBatchResponse { results }))
    }
}
