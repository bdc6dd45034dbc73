//! Assessment (§6.2): schemes, periods computed from the facts as drafts
//! and frozen once published, manual scores, the drill-down, and rewards
//! and accountability records.

use std::collections::HashMap;

use chrono::TimeZone as _;
use procedo_platform::error::Error;
use procedo_platform::etag;
use procedo_platform::identity::{Actor, Role};
use procedo_platform::money::Money;
use procedo_platform::mutation::Call;
use procedo_platform::paging::Page;
use procedo_platform::person::Person;
use procedo_platform::state::State as _;
use procedo_platform::time::Millis;
use prost::Message;

use super::inspections::sees_department;
use super::{App, events};
use crate::domain::assessment::{
    self, AccountabilityRecord, Indicator, Method, Period, PeriodStatus, RecordKind, RecordStatus,
    Scheme, ScoreRow, SubjectKind,
};
use crate::domain::fact::Fact;
use crate::domain::filing::Recurrence;
use crate::store::{self, ScoreFilter};

/// A proposal as asked for.
#[derive(Debug, Clone)]
pub struct RecordRequest {
    pub kind: RecordKind,
    pub subject: String,
    pub reason: String,
    pub basis: String,
    pub indicator: String,
    pub amount: Option<Money>,
}

/// A manual score as asked for.
#[derive(Debug, Clone)]
pub struct ManualScore {
    pub indicator: String,
    pub subject_kind: SubjectKind,
    pub subject: String,
    pub score: f64,
    pub justification: String,
}

fn published(resource: &str) -> Error {
    Error::Precondition {
        kind: "PUBLISHED",
        resource: resource.to_owned(),
        description: "is published: its figures are frozen".into(),
    }
}

impl App {
    pub async fn create_scheme<M: Message + Default>(
        &self,
        call: &Call,
        title: String,
        cycle: Recurrence,
        indicators: Vec<Indicator>,
        respond: impl FnOnce(&Scheme) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let scheme = Scheme {
            id: uuid::Uuid::now_v7().to_string(),
            name: title,
            cycle,
            indicators,
            creator: Person::of(&call.actor),
            created_at: self.now(),
            row_version: 1,
        };
        store::insert_scheme(&mut tx, &scheme).await?;
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.schemes.create",
            &scheme.resource(),
            scheme.name.clone(),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&scheme)).await
    }

    pub async fn scheme(&self, id: &str) -> Result<Scheme, Error> {
        let mut conn = self.db().reader().acquire().await?;
        store::get_scheme(&mut conn, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("assessmentSchemes/{id}")))
    }

    pub async fn schemes(&self, page: &Page) -> Result<(Vec<Scheme>, String), Error> {
        let mut rows =
            store::list_schemes(self.db(), page.after.as_deref(), page.fetch_limit()).await?;
        let next = page.finish(&mut rows, |s| s.id.clone());
        Ok((rows, next))
    }

    /// The figures of `scheme`'s computed indicators over [`start`, `end`),
    /// with the facts behind each.
    async fn figures(
        &self,
        scheme: &Scheme,
        start: Millis,
        end: Millis,
    ) -> Result<(Vec<ScoreRow>, Vec<(String, SubjectKind, String, String)>), Error> {
        let mut by_kind: HashMap<&str, Vec<Fact>> = HashMap::new();
        for indicator in &scheme.indicators {
            if let Method::Computed(metric) = indicator.method {
                for kind in metric.kinds() {
                    if !by_kind.contains_key(kind) {
                        by_kind.insert(kind, store::facts_of(self.db(), kind, start, end).await?);
                    }
                }
            }
        }
        let all: Vec<&Fact> = by_kind.values().flatten().collect();
        let mut series: Vec<&str> = all
            .iter()
            .filter(|f| !f.series.is_empty())
            .map(|f| f.series.as_str())
            .collect();
        series.sort_unstable();
        series.dedup();
        let first_rounds = store::first_rounds(
            self.db(),
            crate::domain::fact::kind::TASK_COMPLETED,
            &series,
        )
        .await?;
        let approved: Vec<&str> = all
            .iter()
            .filter(|f| f.kind == crate::domain::fact::kind::DOCUMENT_APPROVED)
            .map(|f| f.resource.as_str())
            .collect();
        let registered = store::registered_at(self.db(), &approved).await?;
        let homes = assessment::homes(all.iter().copied());
        let mut rows = Vec::new();
        let mut inputs = Vec::new();
        for indicator in &scheme.indicators {
            let Method::Computed(metric) = indicator.method else {
                continue;
            };
            let facts: Vec<Fact> = metric
                .kinds()
                .iter()
                .flat_map(|k| by_kind.get(k).into_iter().flatten().cloned())
                .collect();
            let figures = assessment::compute(metric, &facts, &first_rounds, &registered);
            for (kind, map) in [
                (SubjectKind::Department, &figures.departments),
                (SubjectKind::Person, &figures.people),
            ] {
                for (subject, figure) in map {
                    inputs.extend(
                        figure
                            .events
                            .iter()
                            .map(|e| (indicator.code.clone(), kind, subject.clone(), e.clone())),
                    );
                }
            }
            rows.extend(assessment::rows_of(indicator, &figures, &homes));
        }
        Ok((rows, inputs))
    }

    /// Computes (or recomputes) the draft of `scheme_id`'s period holding
    /// `at`.
    pub async fn compute_period<M: Message + Default>(
        &self,
        call: &Call,
        scheme_id: &str,
        at: Millis,
        respond: impl FnOnce(&Period) -> M,
    ) -> Result<M, Error> {
        let scheme = self.scheme(scheme_id).await?;
        let zone = self.zone();
        let date = zone
            .timestamp_millis_opt(at)
            .single()
            .map(|t| t.date_naive())
            .ok_or_else(|| Error::invalid("period_time", "is not a time"))?;
        let span = scheme
            .cycle
            .period_of(zone, date)
            .ok_or_else(|| Error::unexpected(format!("{} has no periods", scheme.resource())))?;
        // The facts are read before the transaction: no lock is held while
        // the figures are worked out.
        let (computed, inputs) = self.figures(&scheme, span.start, span.end).await?;
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let now = self.now();
        let mut period = match store::period_of(&mut tx, &scheme.id, &span.label).await? {
            Some(p) => p,
            None => {
                let fresh = Period {
                    id: uuid::Uuid::now_v7().to_string(),
                    scheme_id: scheme.id.clone(),
                    label: span.label.clone(),
                    start: span.start,
                    end: span.end,
                    status: PeriodStatus::Draft,
                    computed_at: now,
                    computed_by: Person::of(&call.actor),
                    published_at: None,
                    published_by: None,
                    created_at: now,
                    row_version: 0,
                };
                if !store::insert_period(&mut tx, &fresh).await? {
                    // Another call made it first: it is recomputed as ours.
                    return Err(Error::Conflict(format!(
                        "the period {} of {}",
                        span.label,
                        scheme.resource()
                    )));
                }
                fresh
            }
        };
        let resource = period.resource();
        period
            .draft("recompute")
            .map_err(|_| published(&resource))?;
        let read = period.row_version;
        period.computed_at = now;
        period.computed_by = Person::of(&call.actor);
        period.row_version += 1;
        store::update_period(&mut tx, &period, read)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        let manual: Vec<ScoreRow> = store::scores_of(&mut tx, &period.id)
            .await?
            .into_iter()
            .filter(|r| r.manual)
            .collect();
        let mut rows = computed;
        rows.extend(manual.iter().cloned());
        let totals = assessment::totals(&scheme, &rows);
        rows.retain(|r| !r.manual);
        rows.extend(totals);
        store::replace_scores(&mut tx, &period.id, &rows, &inputs).await?;
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.assessments.compute",
            &resource,
            format!("{} of {}", period.label, scheme.resource()),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&period)).await
    }

    pub async fn period(&self, id: &str) -> Result<Period, Error> {
        let mut conn = self.db().reader().acquire().await?;
        store::get_period(&mut conn, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("assessmentPeriods/{id}")))
    }

    pub async fn periods(
        &self,
        scheme_id: &str,
        page: &Page,
    ) -> Result<(Vec<Period>, String), Error> {
        let mut rows = store::list_periods(
            self.db(),
            scheme_id,
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
        let next = page.finish(&mut rows, |p| p.id.clone());
        Ok((rows, next))
    }

    pub async fn publish_period<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        respond: impl FnOnce(&Period) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut period = store::get_period(&mut tx, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("assessmentPeriods/{id}")))?;
        let resource = period.resource();
        etag::check(&resource, given_etag, period.row_version)?;
        period
            .draft("publish")
            .map_err(|t| Error::illegal(&resource, t))?;
        let read = period.row_version;
        period.status = PeriodStatus::Published;
        period.published_at = Some(self.now());
        period.published_by = Some(Person::of(&call.actor));
        period.row_version += 1;
        store::update_period(&mut tx, &period, read)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.assessments.publish",
            &resource,
            period.label.clone(),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&period)).await
    }

    /// Sets an assessor's score and recomputes the subject's total.
    pub async fn set_manual_score<M: Message + Default>(
        &self,
        call: &Call,
        period_id: &str,
        m: ManualScore,
        respond: impl FnOnce(&ScoreRow) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let period = store::get_period(&mut tx, period_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("assessmentPeriods/{period_id}")))?;
        let resource = period.resource();
        period.draft("score").map_err(|_| published(&resource))?;
        let scheme = store::get_scheme(&mut tx, &period.scheme_id)
            .await?
            .ok_or_else(|| Error::unexpected(format!("{resource}'s scheme is missing")))?;
        match scheme.indicator(&m.indicator).map(|i| i.method) {
            Some(Method::Manual) => {}
            Some(Method::Computed(_)) => {
                return Err(Error::invalid(
                    "indicator",
                    format!(
                        "{:?} is computed from facts, not scored by hand",
                        m.indicator
                    ),
                ));
            }
            None => {
                let manual: Vec<&str> = scheme
                    .indicators
                    .iter()
                    .filter(|i| i.method == Method::Manual)
                    .map(|i| i.code.as_str())
                    .collect();
                return Err(Error::invalid(
                    "indicator",
                    format!(
                        "the scheme has no indicator {:?}; its manual ones: {}",
                        m.indicator,
                        manual.join(", ")
                    ),
                ));
            }
        }
        let mut rows = store::scores_of(&mut tx, &period.id).await?;
        let department = match m.subject_kind {
            SubjectKind::Department => m.subject.clone(),
            SubjectKind::Person => rows
                .iter()
                .find(|r| r.subject_kind == SubjectKind::Person && r.subject == m.subject)
                .map(|r| r.department.clone())
                .unwrap_or_default(),
        };
        let row = ScoreRow {
            subject_kind: m.subject_kind,
            subject: m.subject.clone(),
            department,
            indicator: m.indicator.clone(),
            value: None,
            count: 0,
            score: Some(m.score),
            manual: true,
            justification: m.justification,
            assessor: call.actor.subject.clone(),
        };
        store::put_manual_score(&mut tx, &period.id, &row).await?;
        rows.retain(|r| {
            !(r.subject_kind == row.subject_kind
                && r.subject == row.subject
                && r.indicator == row.indicator)
        });
        rows.push(row.clone());
        let mine: Vec<ScoreRow> = rows
            .into_iter()
            .filter(|r| r.subject_kind == row.subject_kind && r.subject == row.subject)
            .collect();
        if let Some(total) = assessment::totals(&scheme, &mine).into_iter().next() {
            store::put_total(&mut tx, &period.id, &total).await?;
        }
        let detail = format!(
            "{} of {} {}: {}",
            m.indicator,
            m.subject_kind.as_str().to_lowercase(),
            m.subject,
            m.score
        );
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.assessments.score",
            &resource,
            detail,
        )
        .await?;
        self.mutations().finish(tx, call, respond(&row)).await
    }

    /// The figures `actor` may read.
    pub async fn scores(
        &self,
        actor: &Actor,
        period_id: &str,
        mut filter: ScoreFilter,
        page: &Page,
    ) -> Result<(Vec<ScoreRow>, String), Error> {
        self.period(period_id).await?;
        if !sees_department(actor, "") {
            filter.department.clone_from(&actor.department);
        }
        let after = page.after.as_deref().map(|k| {
            let mut parts = k.splitn(3, '\u{1f}');
            (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            )
        });
        let mut rows =
            store::list_scores(self.db(), period_id, &filter, after, page.fetch_limit()).await?;
        let next = page.finish(&mut rows, |r| {
            format!(
                "{}\u{1f}{}\u{1f}{}",
                r.subject_kind.as_str(),
                r.subject,
                r.indicator
            )
        });
        Ok((rows, next))
    }

    /// The facts behind one figure.
    pub async fn score_facts(
        &self,
        actor: &Actor,
        period_id: &str,
        indicator: &str,
        kind: SubjectKind,
        subject: &str,
        page: &Page,
    ) -> Result<(Vec<Fact>, String), Error> {
        self.period(period_id).await?;
        if !sees_department(actor, "") {
            // The subject's figures in the head's department, if any.
            let theirs = ScoreFilter {
                subject_kind: Some(kind),
                subject: subject.to_owned(),
                department: actor.department.clone(),
            };
            if store::list_scores(self.db(), period_id, &theirs, None, 1)
                .await?
                .is_empty()
            {
                return Err(Error::NotFound(format!(
                    "the figures of {} {subject} in assessmentPeriods/{period_id}",
                    kind.as_str().to_lowercase()
                )));
            }
        }
        let after = match page.after.as_deref() {
            None => None,
            Some(k) => Some(
                k.split_once(':')
                    .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id)))
                    .ok_or_else(|| {
                        Error::invalid("page_token", "is not a page token of this list")
                    })?,
            ),
        };
        let mut rows = store::input_facts(
            self.db(),
            period_id,
            indicator,
            kind.as_str(),
            subject,
            after,
            page.fetch_limit(),
        )
        .await?;
        let next = page.finish(&mut rows, |f| format!("{}:{}", f.occurred_at, f.event_id));
        Ok((rows, next))
    }

    pub async fn propose_record<M: Message + Default>(
        &self,
        call: &Call,
        r: RecordRequest,
        respond: impl FnOnce(&AccountabilityRecord) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        if let Some(id) = r.basis.strip_prefix("assessmentPeriods/") {
            let period = store::get_period(&mut tx, id)
                .await?
                .ok_or_else(|| Error::NotFound(r.basis.clone()))?;
            if period.status != PeriodStatus::Published {
                return Err(Error::Precondition {
                    kind: "UNPUBLISHED",
                    resource: r.basis.clone(),
                    description: "is a draft: rewards and accountability follow published results"
                        .into(),
                });
            }
            let scheme = store::get_scheme(&mut tx, &period.scheme_id)
                .await?
                .ok_or_else(|| Error::unexpected(format!("{}'s scheme is missing", r.basis)))?;
            if !r.indicator.is_empty() && scheme.indicator(&r.indicator).is_none() {
                return Err(Error::invalid(
                    "indicator",
                    format!("{} has no indicator {:?}", scheme.resource(), r.indicator),
                ));
            }
        } else if let Some(id) = r.basis.strip_prefix("findings/") {
            store::get_finding(&mut tx, id)
                .await?
                .ok_or_else(|| Error::NotFound(r.basis.clone()))?;
        }
        let record = AccountabilityRecord {
            id: uuid::Uuid::now_v7().to_string(),
            kind: r.kind,
            subject: r.subject,
            reason: r.reason,
            basis: r.basis,
            indicator: r.indicator,
            amount: r.amount,
            status: RecordStatus::Proposed,
            proposed_by: Person::of(&call.actor),
            proposed_at: self.now(),
            decided_by: None,
            decided_at: None,
            decision_comment: String::new(),
            row_version: 1,
        };
        store::insert_record(&mut tx, &record).await?;
        let detail = format!("{:?} for {}", record.kind, record.subject);
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.records.propose",
            &record.resource(),
            detail,
        )
        .await?;
        self.mutations().finish(tx, call, respond(&record)).await
    }

    pub async fn decide_record<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        approve: bool,
        comment: String,
        respond: impl FnOnce(&AccountabilityRecord) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut record = store::get_record(&mut tx, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("accountabilityRecords/{id}")))?;
        let resource = record.resource();
        etag::check(&resource, given_etag, record.row_version)?;
        record
            .status
            .require("decide", &[RecordStatus::Proposed])
            .map_err(|t| Error::illegal(&resource, t))?;
        if record.proposed_by.subject == call.actor.subject {
            return Err(Error::Denied(
                "who proposed a record does not decide it".into(),
            ));
        }
        let read = record.row_version;
        record.status = if approve {
            RecordStatus::Approved
        } else {
            RecordStatus::Rejected
        };
        record.decided_by = Some(Person::of(&call.actor));
        record.decided_at = Some(self.now());
        record.decision_comment = comment;
        record.row_version += 1;
        store::update_record(&mut tx, &record, read)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        events::audit(
            &mut tx,
            &call.actor,
            "compliance.records.decide",
            &resource,
            record.status.as_str().to_owned(),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&record)).await
    }

    /// Auditors and admins list all (or one subject's); anyone else their
    /// own and, as a department head, their department's.
    pub async fn records(
        &self,
        actor: &Actor,
        subject: String,
        page: &Page,
    ) -> Result<(Vec<AccountabilityRecord>, String), Error> {
        let subjects = if actor.has(Role::Auditor) || actor.has(Role::Admin) {
            if subject.is_empty() {
                Vec::new()
            } else {
                vec![subject]
            }
        } else {
            let mut mine = vec![format!("people/{}", actor.subject)];
            if actor.has(Role::DepartmentHead) {
                mine.push(format!("departments/{}", actor.department));
            }
            if !subject.is_empty() {
                mine.retain(|s| *s == subject);
                if mine.is_empty() {
                    return Ok((Vec::new(), String::new()));
                }
            }
            mine
        };
        let mut rows = store::list_records(
            self.db(),
            &subjects,
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
        let next = page.finish(&mut rows, |r| r.id.clone());
        Ok((rows, next))
    }
}
