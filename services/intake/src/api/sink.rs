//! Intake's `EventSinkService`: the workflow service reports how the
//! process of an accepted application goes (stage reached, completed,
//! cancelled); intake follows it on the application and tells the
//! customer. Each event is applied once (the inbox), and a report older
//! than one already applied is ignored.

use procedo_platform::auth::{Actor, Role, authorize};
use procedo_platform::inbox;
use procedo_platform::time;
use procedo_platform::validate::Violations;
use procedo_proto::common;
use procedo_proto::workflow as workflow_pb;
use prost::Message as _;
use sqlx::AnyConnection;
use tonic::{Request, Response, Status};

use super::applications::record_change;
use crate::domain::application::Progress;
use crate::error::Error;
use crate::store;

const DELIVER: &[Role] = &[Role::Service];

#[derive(Debug, Clone)]
pub struct EventSink {
    mutations: procedo_platform::mutation::Mutations,
}

impl EventSink {
    pub fn new(mutations: procedo_platform::mutation::Mutations) -> EventSink {
        EventSink { mutations }
    }
}

/// Applies a workflow progress report to its application, if it is one
/// of intake's.
async fn follow(tx: &mut AnyConnection, event: &common::Event) -> Result<(), Status> {
    let progress = match event.r#type.as_str() {
        "procedo.workflow.v1.instance.stage_reached" => None,
        "procedo.workflow.v1.instance.completed" => Some(Progress::Completed),
        "procedo.workflow.v1.instance.cancelled" => Some(Progress::Cancelled),
        _ => return Ok(()),
    };
    let report = event
        .data
        .as_ref()
        .and_then(|any| workflow_pb::InstanceProgress::decode(any.value.as_slice()).ok())
        .ok_or_else(|| {
            procedo_platform::error::invalid_field(
                "event.data",
                "is not a procedo.workflow.v1.InstanceProgress",
            )
        })?;
    let progress = progress.unwrap_or_else(|| Progress::StageReached(report.step_name.clone()));
    let Some(id) = report.business_key.strip_prefix("applications/") else {
        return Ok(());
    };
    let Some(mut application) = store::get_application(tx, id).await.map_err(Error::from)? else {
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
        let mut tx = self.mutations.db().begin().await.map_err(Error::from)?;
        if !inbox::receive(&mut tx, &event).await.map_err(Error::from)? {
            return Ok(Response::new(common::DeliverResponse { duplicate: true }));
        }
        follow(&mut tx, &event).await?;
        tx.commit().await.map_err(Error::from)?;
        self.mutations.wake_relays();
        Ok(Response::new(common::DeliverResponse { duplicate: false }))
    }
}
