//! Following the process of an accepted application: the workflow service
//! reports each stage reached and the end; the application follows, and
//! the customer hears of it. A report older than one already applied is
//! ignored.

use procedo_platform::error::Error;
use procedo_platform::identity::Actor;
use sqlx::AnyConnection;

use super::App;
use super::applications::{load, record_change};
use crate::domain::application::Progress;
use crate::store;

/// What the workflow service reported about an application's process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressReport {
    /// The application's id.
    pub application: String,
    /// "instances/{id}".
    pub instance: String,
    /// The instance's history position of the report; later ones win.
    pub sequence: i64,
    pub progress: Progress,
}

impl App {
    /// Applies `report` inside the transaction that received it.
    pub async fn follow_progress(
        &self,
        tx: &mut AnyConnection,
        report: ProgressReport,
        actor: &Actor,
    ) -> Result<(), Error> {
        let mut application = match load(tx, &report.application).await {
            Ok(application) => application,
            Err(Error::NotFound(resource)) => {
                tracing::warn!(%resource, "progress for an unknown application; ignored");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let resource = application.resource();
        let read_version = application.version;
        let calendar = self.inner.calendars.get(&application.processing.calendar)?;
        match application.progress(
            &report.instance,
            report.sequence,
            report.progress,
            actor,
            self.now(),
            &calendar,
        ) {
            Ok(Some(entry)) => {
                store::update_application(tx, &application, read_version, &entry)
                    .await
                    .map_err(|e| Error::store(&resource, e))?;
                record_change(
                    tx,
                    actor,
                    &application,
                    &entry,
                    "intake.applications.process",
                )
                .await
            }
            Ok(None) => {
                tracing::debug!(%resource, sequence = report.sequence, "stale progress report; ignored");
                Ok(())
            }
            Err(illegal) => {
                tracing::warn!(%resource, current = illegal.current, "progress for an application not in process; ignored");
                Ok(())
            }
        }
    }
}
