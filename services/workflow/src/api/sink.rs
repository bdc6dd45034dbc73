//! Workflow's `EventSinkService`: an application accepted in intake starts
//! the process of its type, once (the inbox drops redeliveries, and the
//! business key keeps a second start from making a second instance).

use procedo_platform::error::Error;
use procedo_platform::identity::Actor;
use procedo_platform::inbox::Events;
use procedo_proto::common;
use procedo_proto::events;
use procedo_proto::intake as intake_pb;
use prost::Message as _;
use sqlx::AnyConnection;

use crate::app::{App, NewInstance};
use crate::domain::instance::{Form, Money, Participants};

/// How workflow applies its peers' events.
#[derive(Debug, Clone)]
pub struct EventSink {
    app: App,
}

impl EventSink {
    pub fn new(app: App) -> EventSink {
        EventSink { app }
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
        let Some(new) = accepted_application(event)? else {
            return Ok(None);
        };
        let actor = event
            .actor
            .as_ref()
            .map(Actor::from_proto)
            .unwrap_or_else(|| Actor::from_proto(&common::Actor::default()));
        let (instance, _) = self.app.start(tx, new, &actor, self.app.now()).await?;
        Ok(Some(instance.id))
    }

    fn committed(&self, started: Option<String>) {
        if let Some(id) = started {
            self.app.instance_changed(&id);
        }
    }
}

/// The instance an accepted application asks for, when the event is one
/// and its type names a process.
fn accepted_application(event: &common::Event) -> Result<Option<NewInstance>, Error> {
    let accepted = match event.r#type.as_str() {
        events::intake::APPLICATION_ACCEPTED => true,
        // Sent before intake had an event of its own for acceptance; still
        // pending in outboxes written by those versions.
        events::intake::APPLICATION_STATUS_CHANGED => false,
        _ => return Ok(None),
    };
    let change = event
        .data
        .as_ref()
        .and_then(|any| intake_pb::StatusChanged::decode(any.value.as_slice()).ok())
        .ok_or_else(|| Error::invalid("event.data", "is not a procedo.intake.v1.StatusChanged"))?;
    if !(accepted || change.to_status == "ACCEPTED") || change.process_key.is_empty() {
        return Ok(None);
    }
    let actor_department = event
        .actor
        .as_ref()
        .map(|a| a.department.clone())
        .unwrap_or_default();
    let title = [change.ledger_number.as_str(), change.title.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Some(NewInstance {
        process_key: change.process_key.clone(),
        business_key: change.resource.clone(),
        business_type: change.type_code.clone(),
        amount: change.amount.as_ref().map(|m| Money {
            currency: m.currency_code.clone(),
            minor_units: m.minor_units,
        }),
        title,
        initiator_department: if change.department.is_empty() {
            actor_department
        } else {
            change.department.clone()
        },
        form: Form {
            background: change.message,
            ..Form::default()
        },
        participants: Participants::default(),
        origin: event.source.trim_start_matches("procedo.").to_owned(),
    }))
}
