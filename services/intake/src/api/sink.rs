//! Intake's `EventSinkService`: events from other services, applied once.
//!
//! Intake subscribes to no event type yet (the workflow service's progress
//! events come with it); received events are recorded in the inbox, so a
//! redelivery is recognised, and otherwise acknowledged.

use procedo_platform::auth::{Role, authorize};
use procedo_platform::inbox;
use procedo_platform::validate::Violations;
use procedo_proto::common;
use tonic::{Request, Response, Status};

use crate::error::Error;

const DELIVER: &[Role] = &[Role::Service];

#[derive(Debug, Clone)]
pub struct EventSink {
    db: procedo_platform::db::Database,
}

impl EventSink {
    pub fn new(db: procedo_platform::db::Database) -> EventSink {
        EventSink { db }
    }
}

#[tonic::async_trait]
impl common::event_sink_service_server::EventSinkService for EventSink {
    async fn deliver(
        &self,
        r: Request<common::DeliverRequest>,
    ) -> Result<Response<common::DeliverResponse>, Status> {
        authorize(&r, DELIVER)?;
        let mut v = Violations::new();
        let event = r.into_inner().event.unwrap_or_default();
        v.required_line("event.id", &event.id, 100);
        v.required_line("event.source", &event.source, 200);
        v.required_line("event.type", &event.r#type, 200);
        v.finish()?;
        let mut tx = self.db.begin().await.map_err(Error::from)?;
        let fresh = inbox::receive(&mut tx, &event).await.map_err(Error::from)?;
        if fresh {
            tracing::debug!(event.id = %event.id, event.r#type = %event.r#type, "event received");
        }
        tx.commit().await.map_err(Error::from)?;
        Ok(Response::new(common::DeliverResponse { duplicate: !fresh }))
    }
}
