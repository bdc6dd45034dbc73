//! Workflow's `EventSinkService`: an application accepted in intake starts
//! the process of its type, once (the inbox drops redeliveries, and the
//! business key keeps a second start from making a second instance).

use procedo_platform::auth::{Actor, Role, authorize};
use procedo_platform::inbox;
use procedo_platform::time;
use procedo_platform::validate::Violations;
use procedo_proto::common;
use procedo_proto::intake as intake_pb;
use prost::Message as _;
use tonic::{Request, Response, Status};

use super::WorkflowApi;
use super::instances::{NewInstance, start_instance};
use crate::domain::instance::{Form, Money, Participants};
use crate::error::Error;

const DELIVER: &[Role] = &[Role::Service];

/// The event type intake emits on every application status change.
pub const APPLICATION_STATUS_CHANGED: &str = "procedo.intake.v1.application.status_changed";

#[derive(Debug, Clone)]
pub struct EventSink {
    api: WorkflowApi,
}

impl EventSink {
    pub fn new(api: WorkflowApi) -> EventSink {
        EventSink { api }
    }
}

#[tonic::async_trait]
impl common::event_sink_service_server::EventSinkService for EventSink {
    async fn deliver(
        &self,
        r: Request<common::DeliverRequest>,
    ) -> Result<Response<common::DeliverResponse>, Status> {
        authorize(&r, DELIVER)?;
        let event = r.into_inner().event.unwrap_or_default();
        let mut v = Violations::new();
        v.required_line("event.id", &event.id, 100);
        v.required_line("event.source", &event.source, 200);
        v.required_line("event.type", &event.r#type, 200);
        v.finish()?;
        let mut tx = self.api.db().begin().await.map_err(Error::from)?;
        if !inbox::receive(&mut tx, &event).await.map_err(Error::from)? {
            return Ok(Response::new(common::DeliverResponse { duplicate: true }));
        }
        let mut started = None;
        if event.r#type == APPLICATION_STATUS_CHANGED {
            let change = event
                .data
                .as_ref()
                .and_then(|any| intake_pb::StatusChanged::decode(any.value.as_slice()).ok())
                .ok_or_else(|| {
                    procedo_platform::error::invalid_field(
                        "event.data",
                        "is not a procedo.intake.v1.StatusChanged",
                    )
                })?;
            if change.to_status == "ACCEPTED" && !change.process_key.is_empty() {
                let actor = event
                    .actor
                    .as_ref()
                    .map(Actor::from_proto)
                    .unwrap_or_else(|| Actor::from_proto(&common::Actor::default()));
                let department = if change.department.is_empty() {
                    actor.department.clone()
                } else {
                    change.department.clone()
                };
                let title = [change.ledger_number.as_str(), change.title.as_str()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                let new = NewInstance {
                    process_key: change.process_key.clone(),
                    business_key: change.resource.clone(),
                    business_type: change.type_code.clone(),
                    amount: change.amount.as_ref().map(|m| Money {
                        currency: m.currency_code.clone(),
                        minor_units: m.minor_units,
                    }),
                    title,
                    initiator_department: department,
                    form: Form {
                        background: change.message.clone(),
                        ..Form::default()
                    },
                    participants: Participants::default(),
                    origin: event.source.trim_start_matches("procedo.").to_owned(),
                };
                let (instance, _) =
                    start_instance(&self.api, &mut tx, new, &actor, time::now()).await?;
                started = Some(instance.id);
            }
        }
        tx.commit().await.map_err(Error::from)?;
        self.api.mutations().wake_relays();
        if let Some(id) = started {
            self.api.changed(&id);
        }
        Ok(Response::new(common::DeliverResponse { duplicate: false }))
    }
}
