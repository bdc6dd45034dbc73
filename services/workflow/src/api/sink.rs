//! Workflow's `EventSinkService`: an application accepted in intake starts
//! the process of its type, once (the inbox drops redeliveries, and the
//! business key keeps a second start from making a second instance).

use procedo_platform::error::Error;
use procedo_platform::identity::Actor;
use procedo_platform::inbox::Events;
use procedo_platform::time;
use procedo_proto::common;
use procedo_proto::events;
use procedo_proto::intake as intake_pb;
use prost::Message as _;
use sqlx::AnyConnection;

use super::WorkflowApi;
use super::instances::{NewInstance, start_instance};
use crate::domain::instance::{Form, Money, Participants};

#[derive(Debug, Clone)]
pub struct EventSink {
    api: WorkflowApi,
}

impl EventSink {
    pub fn new(api: WorkflowApi) -> EventSink {
        EventSink { api }
    }
}

impl Events for EventSink {
    /// The instance an event started, to wake its watchers.
    type Applied = Option<String>;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        event: &common::Event,
    ) -> Result<Option<String>, Error> {
        if event.r#type != events::intake::APPLICATION_STATUS_CHANGED {
            return Ok(None);
        }
        let change = event
            .data
            .as_ref()
            .and_then(|any| intake_pb::StatusChanged::decode(any.value.as_slice()).ok())
            .ok_or_else(|| {
                Error::invalid("event.data", "is not a procedo.intake.v1.StatusChanged")
            })?;
        if change.to_status != "ACCEPTED" || change.process_key.is_empty() {
            return Ok(None);
        }
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
        let (instance, _) = start_instance(&self.api, tx, new, &actor, time::now()).await?;
        Ok(Some(instance.id))
    }

    fn committed(&self, started: Option<String>) {
        if let Some(id) = started {
            self.api.changed(&id);
        }
    }
}
