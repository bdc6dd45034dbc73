//! Intake's deadlines follow the company's calendars: a new version of a
//! calendar moves the due time of every running or paused response and
//! processing clock that counts on it, each move in that inquiry's or
//! application's history. An inquiry unanswered past its deadline, or an
//! application still being handled past its time limit, is reported to
//! the compliance service once.

use procedo_platform::calendars::{Recompute, Stored};
use procedo_platform::error::Error;
use procedo_platform::identity::{Actor, Clearance, Role};
use procedo_platform::time::Millis;
use sqlx::AnyConnection;

use super::{App, events};
use procedo_proto::events as kinds;
use procedo_proto::intake as pb;

use crate::store::{self, Overdue, Reported};

/// Rows read at a time while recomputing.
const BATCH: i64 = 500;
/// Reports made per transaction.
const REPORT_BATCH: i64 = 200;

/// The actor intake's timer acts as.
fn timer() -> Actor {
    Actor {
        subject: "procedo-intake".into(),
        name: "Procedo intake deadline timer".into(),
        title: String::new(),
        department: String::new(),
        roles: vec![Role::Service],
        approval_level: 0,
        clearance: Clearance::Secret,
    }
}

impl App {
    /// Reports what ran out since the last look to the compliance service,
    /// once each; how many.
    pub async fn report_overdue(&self) -> Result<usize, Error> {
        let now = self.now();
        let actor = timer();
        let mut tx = self.db().begin().await?;
        let inquiries = store::unreported_inquiries(&mut tx, now, REPORT_BATCH).await?;
        let applications = store::unreported_applications(&mut tx, now, REPORT_BATCH).await?;
        let mut reported = 0;
        let all = inquiries
            .into_iter()
            .map(|o| (Reported::Inquiry, o))
            .chain(applications.into_iter().map(|o| (Reported::Application, o)));
        for (kind, overdue) in all {
            if !store::mark_reported(&mut tx, kind, &overdue.id, now).await? {
                continue;
            }
            let (resource, event_type, action) = match kind {
                Reported::Inquiry if overdue.answered_late => (
                    format!("inquiries/{}", overdue.id),
                    kinds::intake::INQUIRY_ANSWERED_LATE,
                    "intake.inquiries.answered_late",
                ),
                Reported::Inquiry => (
                    format!("inquiries/{}", overdue.id),
                    kinds::intake::INQUIRY_OVERDUE,
                    "intake.inquiries.overdue",
                ),
                Reported::Application => (
                    format!("applications/{}", overdue.id),
                    kinds::intake::APPLICATION_OVERDUE,
                    "intake.applications.overdue",
                ),
            };
            let change = report(&resource, &overdue);
            events::to_compliance(&mut tx, &actor, event_type, &change).await?;
            events::audit(
                &mut tx,
                &actor,
                action,
                &resource,
                format!(
                    "due {}",
                    procedo_platform::time::to_timestamp(overdue.due_at)
                ),
            )
            .await?;
            reported += 1;
        }
        tx.commit().await?;
        if reported > 0 {
            self.mutations().committed();
        }
        Ok(reported)
    }
}

fn report(resource: &str, o: &Overdue) -> pb::StatusChanged {
    pb::StatusChanged {
        resource: resource.to_owned(),
        ledger_number: o.ledger_number.clone(),
        from_status: o.status.clone(),
        to_status: o.status.clone(),
        department: o.department.clone(),
        due_time: Some(procedo_platform::time::to_timestamp(o.due_at)),
        ..pb::StatusChanged::default()
    }
}

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
