//! Intake's `EventSinkService`: the workflow service reports how the
//! process of an accepted application goes (stage reached, completed,
//! cancelled); each report is read into a [`ProgressReport`] and applied by
//! the application layer.

use procedo_platform::error::Error;
use procedo_platform::identity::Actor;
use procedo_platform::inbox::Events;
use procedo_proto::common;
use procedo_proto::events;
use procedo_proto::workflow as workflow_pb;
use prost::Message as _;
use sqlx::AnyConnection;

use crate::app::{App, ProgressReport};
use crate::domain::application::Progress;

/// How intake applies its peers' events.
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
    type Applied = ();

    async fn apply(&self, tx: &mut AnyConnection, event: &common::Event) -> Result<(), Error> {
        let Some(report) = progress_report(event)? else {
            return Ok(());
        };
        let actor = event
            .actor
            .as_ref()
            .map(Actor::from_proto)
            .unwrap_or_else(|| Actor::from_proto(&common::Actor::default()));
        self.app.follow_progress(tx, report, &actor).await
    }

    fn committed(&self, (): ()) {}
}

/// The report a workflow progress event carries, when it is about one of
/// intake's applications.
fn progress_report(event: &common::Event) -> Result<Option<ProgressReport>, Error> {
    let progress = match event.r#type.as_str() {
        events::workflow::INSTANCE_STAGE_REACHED => None,
        events::workflow::INSTANCE_COMPLETED => Some(Progress::Completed),
        events::workflow::INSTANCE_CANCELLED => Some(Progress::Cancelled),
        _ => return Ok(None),
    };
    let report = event
        .data
        .as_ref()
        .and_then(|any| workflow_pb::InstanceProgress::decode(any.value.as_slice()).ok())
        .ok_or_else(|| {
            Error::invalid(
                "event.data",
                "is not a procedo.workflow.v1.InstanceProgress",
            )
        })?;
    let Some(application) = report.business_key.strip_prefix("applications/") else {
        return Ok(None);
    };
    Ok(Some(ProgressReport {
        application: application.to_owned(),
        progress: progress.unwrap_or_else(|| Progress::StageReached(report.step_name.clone())),
        instance: report.instance,
        sequence: report.sequence,
    }))
}
