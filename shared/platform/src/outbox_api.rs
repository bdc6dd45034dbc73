//! `procedo.common.v1.OutboxService`, served by every service: what it has
//! queued for others, for admins to watch and to send again.

use procedo_proto::common as pb;
use tonic::{Request, Response, Status};

use crate::auth::authorize;
use crate::error::Error;
use crate::identity::Role;
use crate::mutation::Mutations;
use crate::outbox::{self, DeliveryStatus, Record, Retried};
use crate::paging::Page;
use crate::time;
use crate::validate::Violations;

const ADMINS: &[Role] = &[Role::Admin];

/// A service's `OutboxService`.
#[derive(Debug, Clone)]
pub struct OutboxApi {
    mutations: Mutations,
}

impl OutboxApi {
    pub(crate) fn new(mutations: Mutations) -> OutboxApi {
        OutboxApi { mutations }
    }
}

fn status_to_pb(status: DeliveryStatus) -> pb::OutboxEventStatus {
    match status {
        DeliveryStatus::Pending => pb::OutboxEventStatus::Pending,
        DeliveryStatus::Delivered => pb::OutboxEventStatus::Delivered,
        DeliveryStatus::Failed => pb::OutboxEventStatus::Failed,
    }
}

fn event_to_pb(r: &Record) -> pb::OutboxEvent {
    pb::OutboxEvent {
        name: format!("outboxEvents/{}", r.event.id),
        destination: r.destination.clone(),
        event_type: r.event.r#type.clone(),
        subject: r.event.subject.clone(),
        status: status_to_pb(r.status) as i32,
        attempts: r
            .attempts
            .iter()
            .map(|a| pb::OutboxAttempt {
                time: Some(time::to_timestamp(a.at)),
                success: a.success,
                outcome: a.outcome.clone(),
            })
            .collect(),
        create_time: Some(time::to_timestamp(r.created_at)),
        next_attempt_time: (r.status == DeliveryStatus::Pending)
            .then(|| time::to_timestamp(r.next_attempt_at)),
    }
}

#[tonic::async_trait]
impl pb::outbox_service_server::OutboxService for OutboxApi {
    async fn list_outbox_destinations(
        &self,
        r: Request<pb::ListOutboxDestinationsRequest>,
    ) -> Result<Response<pb::ListOutboxDestinationsResponse>, Status> {
        authorize(&r, ADMINS)?;
        let queues = outbox::queues(self.mutations.db())
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::ListOutboxDestinationsResponse {
            destinations: queues
                .into_iter()
                .map(|q| pb::OutboxDestination {
                    destination: q.destination,
                    pending: q.pending,
                    failed: q.failed,
                    oldest_pending_time: time::to_timestamp_opt(q.oldest_pending),
                })
                .collect(),
        }))
    }

    async fn list_outbox_events(
        &self,
        r: Request<pb::ListOutboxEventsRequest>,
    ) -> Result<Response<pb::ListOutboxEventsResponse>, Status> {
        authorize(&r, ADMINS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        let destination = v.required_line("destination", &r.destination, 100);
        let status = match pb::OutboxEventStatus::try_from(r.status) {
            Ok(pb::OutboxEventStatus::Unspecified) => None,
            Ok(pb::OutboxEventStatus::Pending) => Some(DeliveryStatus::Pending),
            Ok(pb::OutboxEventStatus::Delivered) => Some(DeliveryStatus::Delivered),
            Ok(pb::OutboxEventStatus::Failed) => Some(DeliveryStatus::Failed),
            Err(_) => {
                v.add(
                    "status",
                    format!("{} is not an OutboxEventStatus", r.status),
                );
                None
            }
        };
        let subject = v.optional_line("subject", &r.subject, 200);
        v.finish()?;
        let subject = (!subject.is_empty()).then_some(subject.as_str());
        let mut events = outbox::list(self.mutations.db(), &destination, subject, status, &page)
            .await
            .map_err(Error::from)?;
        let next_page_token = page.finish(&mut events, |e| e.event.id.clone());
        Ok(Response::new(pb::ListOutboxEventsResponse {
            events: events.iter().map(event_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn retry_outbox_event(
        &self,
        r: Request<pb::RetryOutboxEventRequest>,
    ) -> Result<Response<pb::OutboxEvent>, Status> {
        authorize(&r, ADMINS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let id = v.resource_id("name", "outboxEvents", &r.name);
        v.finish()?;
        let db = self.mutations.db();
        match outbox::retry(db, &id).await.map_err(Error::from)? {
            Retried::Missing => return Err(Error::NotFound(r.name).into()),
            Retried::NotFailed(status) => {
                return Err(Error::Precondition {
                    kind: "STATE",
                    resource: r.name,
                    description: format!(
                        "is {}, not FAILED: only an event its destination refused is sent again",
                        status.as_str().to_uppercase()
                    ),
                }
                .into());
            }
            Retried::Queued { destination } => {
                tracing::info!(event.id = %id, %destination, "event queued again");
            }
        }
        // Its relay wakes at once.
        self.mutations.committed();
        let record = outbox::get(db, &id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::NotFound(r.name.clone()))?;
        Ok(Response::new(event_to_pb(&record)))
    }
}
