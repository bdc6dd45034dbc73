//! Rectification notices (§6.1): issued for findings, answered by the
//! department, verified or reopened, escalated once when overdue, and
//! following the company's calendar.

use procedo_platform::calendars::{Recompute, Stored};
use procedo_platform::deadline::Deadline;
use procedo_platform::error::Error;
use procedo_platform::etag;
use procedo_platform::identity::{Actor, Clearance, Role};
use procedo_platform::mutation::Call;
use procedo_platform::paging::Page;
use procedo_platform::state::State as _;
use procedo_platform::time::Millis;
use prost::Message;
use sqlx::AnyConnection;

use super::{App, events};
use crate::domain::fact::{Fact, kind};
use crate::domain::inspection::FindingStatus;
use crate::domain::notice::{NewNotice, Notice, Refusal};
use crate::store::{self, NoticeFilter};

/// Notices escalated per transaction.
const SWEEP_BATCH: i64 = 200;
/// Open notices read at a time while recomputing.
const RECOMPUTE_BATCH: i64 = 500;

fn refused(resource: &str, r: Refusal) -> Error {
    match r {
        Refusal::State(t) => Error::illegal(resource, t),
        Refusal::Denied(message) => Error::Denied(message),
        Refusal::Unfit { field, description } => Error::invalid(field, description),
    }
}

/// The deadline a request gives: a time limit on the company's calendar,
/// or a due time.
#[derive(Debug, Clone, Copy)]
pub enum Due {
    Limit(procedo_platform::calendar::Limit),
    At(Millis),
}

/// The actor the compliance timers act as.
pub fn timer() -> Actor {
    Actor {
        subject: "procedo-compliance".into(),
        name: "Procedo compliance timer".into(),
        title: String::new(),
        department: String::new(),
        roles: vec![Role::Service],
        approval_level: 0,
        clearance: Clearance::Secret,
    }
}

/// A new notice as asked for.
#[derive(Debug, Clone)]
pub struct NoticeRequest {
    /// Finding ids.
    pub findings: Vec<String>,
    pub department: String,
    pub department_head: String,
    pub requirements: String,
    pub due: Due,
}

/// A step of a notice, as the API names it.
#[derive(Debug, Clone)]
pub enum Step {
    Acknowledge(String),
    Start(String),
    Submit {
        evidence: Vec<String>,
        notes: String,
    },
    Verify(String),
    Reopen {
        reason: String,
        due: Due,
    },
}

impl App {
    fn deadline(&self, due: Due, now: Millis) -> Result<Deadline, Error> {
        let calendar = self.calendars().default_calendar();
        Ok(match due {
            Due::Limit(limit) => Deadline::start(now, limit, &calendar),
            Due::At(at) if at <= now => {
                return Err(Error::invalid("due_time", "must be in the future"));
            }
            Due::At(at) => Deadline::until(now, at, &calendar),
        })
    }

    /// Issues a notice for its findings (ids), all OPEN and of its
    /// department.
    pub async fn issue_notice<M: Message + Default>(
        &self,
        call: &Call,
        r: NoticeRequest,
        respond: impl FnOnce(&Notice) -> M,
    ) -> Result<M, Error> {
        let NoticeRequest {
            findings,
            department,
            department_head,
            requirements,
            due,
        } = r;
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let now = self.now();
        let id = uuid::Uuid::now_v7().to_string();
        // Not named: the head the directory knows.
        let department_head = if department_head.is_empty() {
            self.head_of(&mut tx, &department).await?.ok_or_else(|| {
                Error::invalid(
                    "department_head",
                    format!("the directory names no head of {department}: name one"),
                )
            })?
        } else {
            department_head
        };
        let mut covered = Vec::with_capacity(findings.len());
        for finding_id in &findings {
            let finding = store::get_finding(&mut tx, finding_id)
                .await?
                .ok_or_else(|| Error::NotFound(format!("findings/{finding_id}")))?;
            if finding.department != department {
                return Err(Error::invalid(
                    "findings",
                    format!(
                        "{} concerns {}, not {department}: one notice goes to one department",
                        finding.resource(),
                        finding.department
                    ),
                ));
            }
            finding
                .status
                .require("issue a notice for", &[FindingStatus::Open])
                .map_err(|t| Error::illegal(finding.resource(), t))?;
            covered.push(finding);
        }
        let notice = Notice::issue(
            id,
            NewNotice {
                findings: covered.iter().map(|f| f.resource()).collect(),
                department,
                department_head,
                requirements,
                deadline: self.deadline(due, now)?,
            },
            &call.actor,
            now,
        );
        for mut finding in covered {
            let read = finding.row_version;
            finding.status = FindingStatus::Rectifying;
            finding.notice_id.clone_from(&notice.id);
            finding.row_version += 1;
            store::update_finding(&mut tx, &finding, read)
                .await
                .map_err(|e| Error::store(&finding.resource(), e))?;
        }
        store::insert_notice(&mut tx, &notice).await?;
        let detail = notice
            .history
            .last()
            .map(|e| e.detail.clone())
            .unwrap_or_default();
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.notices.issue",
            &notice.resource(),
            detail,
        )
        .await?;
        self.mutations().finish(tx, call, respond(&notice)).await
    }

    async fn notice_in(conn: &mut AnyConnection, id: &str, actor: &Actor) -> Result<Notice, Error> {
        store::get_notice(conn, id)
            .await?
            .filter(|n| n.visible_to(actor))
            .ok_or_else(|| Error::NotFound(format!("rectificationNotices/{id}")))
    }

    pub async fn notice(&self, actor: &Actor, id: &str) -> Result<Notice, Error> {
        let mut conn = self.db().reader().acquire().await?;
        Self::notice_in(&mut conn, id, actor).await
    }

    pub async fn notices(
        &self,
        actor: &Actor,
        mut filter: NoticeFilter,
        page: &Page,
    ) -> Result<(Vec<Notice>, String), Error> {
        if !super::inspections::sees_department(actor, &filter.department) {
            filter.department.clone_from(&actor.department);
        }
        let mut rows = store::list_notices(
            self.db(),
            &filter,
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
        let next = page.finish(&mut rows, |n| n.id.clone());
        Ok((rows, next))
    }

    /// Takes notice `id` (read at `given_etag`) one `step` on.
    pub async fn step_notice<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        step: Step,
        respond: impl FnOnce(&Notice) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut notice = Self::notice_in(&mut tx, id, &call.actor).await?;
        let resource = notice.resource();
        etag::check(&resource, given_etag, notice.row_version)?;
        let read = notice.row_version;
        let now = self.now();
        let actor = &call.actor;
        let (action, result) = match step {
            Step::Acknowledge(comment) => ("acknowledge", notice.acknowledge(actor, comment, now)),
            Step::Start(comment) => ("start", notice.start(actor, comment, now)),
            Step::Submit { evidence, notes } => {
                ("submit", notice.submit(actor, evidence, notes, now))
            }
            Step::Verify(comment) => ("verify", notice.verify(actor, comment, now)),
            Step::Reopen { reason, due } => {
                let deadline = self.deadline(due, now)?;
                ("reopen", notice.reopen(actor, reason, deadline, now))
            }
        };
        result.map_err(|r| refused(&resource, r))?;
        store::update_notice(&mut tx, &notice, read)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        if action == "verify" {
            // The assessment counts notices closed by their deadline.
            let verified = Fact {
                department: notice.department.clone(),
                person: notice.department_head.clone(),
                due_at: Some(notice.deadline.due),
                evidence: format!(
                    "{} of {} was verified by {} ({})",
                    resource,
                    notice.department,
                    actor.subject,
                    if now <= notice.deadline.due {
                        "by its deadline"
                    } else {
                        "after its deadline"
                    }
                ),
                ..Fact::new(
                    &format!("{resource}#verified"),
                    kind::NOTICE_VERIFIED,
                    resource.clone(),
                    now,
                )
            };
            store::insert_fact(&mut tx, &verified).await?;
            for name in &notice.findings {
                let finding_id = name.trim_start_matches("findings/");
                let Some(mut finding) = store::get_finding(&mut tx, finding_id).await? else {
                    continue;
                };
                let read = finding.row_version;
                finding.status = FindingStatus::Closed;
                finding.row_version += 1;
                store::update_finding(&mut tx, &finding, read)
                    .await
                    .map_err(|e| Error::store(name, e))?;
            }
        }
        let detail = notice
            .history
            .last()
            .map(|e| e.detail.clone())
            .unwrap_or_default();
        events::audit(
            &mut tx,
            actor,
            &format!("compliance.notices.{action}"),
            &resource,
            detail,
        )
        .await?;
        self.mutations().finish(tx, call, respond(&notice)).await
    }

    /// Escalates notices whose deadline passed open, once each; how many.
    pub async fn sweep_notices(&self) -> Result<usize, Error> {
        let now = self.now();
        let actor = timer();
        let mut tx = self.db().begin().await?;
        let mut marked = 0;
        for mut notice in store::overdue_notices(&mut tx, now, SWEEP_BATCH).await? {
            let read = notice.row_version;
            if !notice.mark_overdue(&actor, now) {
                continue;
            }
            match store::update_notice(&mut tx, &notice, read).await {
                Ok(()) => {}
                // Another replica's sweep took it.
                Err(procedo_platform::rows::StoreError::Conflict(_)) => continue,
                Err(e) => return Err(Error::store(&notice.resource(), e)),
            }
            events::audit(
                &mut tx,
                &actor,
                "compliance.notices.overdue",
                &notice.resource(),
                notice.escalated_to(),
            )
            .await?;
            tracing::info!(notice = %notice.resource(), department = %notice.department, "rectification notice overdue; escalated");
            marked += 1;
        }
        tx.commit().await?;
        if marked > 0 {
            self.mutations().committed();
        }
        Ok(marked)
    }
}

/// Open notices follow a new calendar version: each due time moves, with an
/// entry in the notice's history.
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
            let batch = store::open_notices(tx, &after, RECOMPUTE_BATCH).await?;
            for notice in &batch {
                let mut notice = notice.clone();
                let read = notice.row_version;
                if notice.follow_calendar(calendar, actor, now) {
                    store::update_notice(tx, &notice, read)
                        .await
                        .map_err(|e| Error::store(&notice.resource(), e))?;
                    moved += 1;
                }
            }
            match batch.last() {
                Some(last) if batch.len() == RECOMPUTE_BATCH as usize => after.clone_from(&last.id),
                _ => break,
            }
        }
        Ok(moved)
    }
}
