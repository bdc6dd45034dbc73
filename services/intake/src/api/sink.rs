//! Intake's `EventSinkService`: the workflow service reports how the
//! process of an accepted application goes (stage reached, completed,
//! cancelled); intake follows it on the application and tells the
//! customer. Each event is applied once (the inbox), and a report older
//! than one already applied is ignored.

use procedo_platform::error::Error;
use procedo_platform::identity::Actor;
use procedo_platform::inbox::Events;
use procedo_platform::time;
use procedo_proto::common;
use procedo_proto::events;
use procedo_proto::workflow as workflow_pb;
use prost::Message as _;
use sqlx::AnyConnection;

use super::applications::record_change;
use crate::domain::application::Progress;
use crate::store;

/// How intake applies its peers' events.
#[derive(Debug, Clone, Copy)]
pub struct EventSink;

impl Events for EventSink {
    type Applied = ();

    async fn apply(&self, tx: &mut AnyConnection, event: &common::Event) -> Result<(), Error> {
        follow(tx, event).await
    }

    fn committed(&self, (): ()) {}
}

/// Applies a workflow progress report to its application, if it is one
/// of intake's.
async fn follow(tx: &mut AnyConnection, event: &common::Event) -> Result<(), Error> {
    let progress = match event.r#type.as_str() {
        events::workflow::INSTANCE_STAGE_REACHED => None,
        events::workflow::INSTANCE_COMPLETED => Some(Progress::Completed),
        events::workflow::INSTANCE_CANCELLED => Some(Progress::Cancelled),
        _ => return Ok(()),
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
    let progress = progress.unwrap_or_else(|| Progress::StageReached(report.step_name.clone()));
    let Some(id) = report.business_key.strip_prefix("applications/") else {
        return Ok(());
    };
    let Some(mut application) = store::get_application(tx, id).await? else {
        tracing::warn!(business_key = %report.business_key, "progress for an unknown application; ignored");
        return Ok(());
    };
    let actor = event
        .actor
        .as_ref()
        .map(Actor::from_proto)
        .unwrap_or_else(|| Actor::from_proto(&common::Actor::default()));
    let read_version = application.version;
    let resource = format!("applications/{id}");
    match application.progress(
        &report.instance,
        report.sequence,
        progress,
        &actor,
        time::now(),
    ) {
        Ok(Some(entry)) => {
            store::update_application(tx, &application, read_version, &entry)
                .await
                .map_err(|e| Error::store(&resource, e))?;
            record_change(
                tx,
                &actor,
                &application,
                &entry,
                "intake.applications.process",
            )
            .await?;
        }
        Ok(None) => {
            tracing::debug!(%resource, sequence = report.sequence, "stale progress report; ignored")
        }
        Err(illegal) => {
            tracing::warn!(%resource, current = illegal.current, "progress for an application not in process; ignored")
        }
    }
    Ok(())
}
