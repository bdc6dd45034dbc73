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

impl<E: Events> Sink<E> {
    async fn deliver(&self, event: Event) -> Result<bool, Error> {
        let mut v = Violations::new();
        v.required_line("event.id", &event.id, 100);
        v.required_line("event.source", &event.source, 200);
        v.required_line("event.type", &event.r#type, 200);
        v.finish()?;
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
}
