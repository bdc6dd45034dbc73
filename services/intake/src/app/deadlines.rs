//! Intake's deadlines follow the company's calendars: a new version of a
//! calendar moves the due time of every running or paused response and
//! processing clock that counts on it, each move in that inquiry's or
//! application's history.

use procedo_platform::calendars::{Recompute, Stored};
use procedo_platform::error::Error;
use procedo_platform::identity::Actor;
use procedo_platform::time::Millis;
use sqlx::AnyConnection;

use super::{App, events};
use crate::store;

/// Rows read at a time while recomputing.
const BATCH: i64 = 500;

#[tonic::async_trait]
impl Recompute for App {
    async fn recompute(
        &self,
        tx: &mut AnyConnection,
        calendar: &Stored,
        actor: &Actor,
        now: Millis,
    ) -> Result<u64, Error> {
        let mut moved = 0;
        let mut after = String::new();
        loop {
            let batch = store::clocked_inquiries(tx, &after, BATCH).await?;
            for mut inquiry in batch.iter().cloned() {
                let read_version = inquiry.version;
                if let Some(entry) = inquiry.follow_calendar(calendar, actor, now) {
                    store::update_inquiry(tx, &inquiry, read_version, &entry)
                        .await
                        .map_err(|e| Error::store(&inquiry.resource(), e))?;
                    moved += 1;
                }
            }
            match batch.last() {
                Some(last) if batch.len() == BATCH as usize => after.clone_from(&last.id),
                _ => break,
            }
        }
        after.clear();
        loop {
            let batch = store::clocked_applications(tx, &after, BATCH).await?;
            for mut application in batch.iter().cloned() {
                let read_version = application.version;
                if let Some(entry) = application.follow_calendar(calendar, actor, now) {
                    store::update_application(tx, &application, read_version, &entry)
                        .await
                        .map_err(|e| Error::store(&application.resource(), e))?;
                    moved += 1;
                }
            }
            match batch.last() {
                Some(last) if batch.len() == BATCH as usize => after.clone_from(&last.id),
                _ => break,
            }
        }
        if moved > 0 {
            events::audit(
                tx,
                actor,
                "intake.deadlines.recompute",
                &calendar.resource(),
                format!("version {}: {moved} due times moved", calendar.version),
            )
            .await?;
        }
        Ok(moved)
    }
}
