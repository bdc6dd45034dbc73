//! `procedo.compliance.v1.FilingService`: admins configure obligations;
//! the responsible person submits; auditors read.

use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::identity::Role;
use procedo_platform::mutation::Call;
use procedo_platform::paging::Page;
use procedo_platform::time::{
    from_proto_duration, to_proto_duration, to_timestamp, to_timestamp_opt,
};
use procedo_platform::validate::Violations;
use procedo_proto::compliance as pb;
use tonic::{Request, Response, Status};

use super::history_to_pb;
use super::inspections::evidence_of;
use crate::app::{App, ObligationRequest};
use crate::domain::filing::{Filing, FilingStatus, Obligation, Recurrence};
use crate::store::FilingFilter;

/// Who configures obligations.
const ADMINS: &[Role] = &[Role::Admin];
const READERS: &[Role] = &[Role::Auditor];
/// The longest lead time and delay after a period.
const YEAR_MS: i64 = 366 * 86_400_000;

#[derive(Debug, Clone)]
pub struct FilingApi {
    app: App,
}

impl FilingApi {
    pub fn new(app: App) -> FilingApi {
        FilingApi { app }
    }
}

fn recurrence_to_pb(r: Recurrence) -> i32 {
    (match r {
        Recurrence::Monthly => pb::Recurrence::Monthly,
        Recurrence::Quarterly => pb::Recurrence::Quarterly,
        Recurrence::Yearly => pb::Recurrence::Yearly,
        Recurrence::OneOff => pb::Recurrence::OneOff,
    }) as i32
}

fn obligation_to_pb(o: &Obligation) -> pb::Obligation {
    let one_off = o.recurrence == Recurrence::OneOff;
    pb::Obligation {
        name: o.resource(),
        regulator: o.regulator.clone(),
        subject: o.subject.clone(),
        recurrence: recurrence_to_pb(o.recurrence),
        responsible: o.responsible.clone(),
        department: o.department.clone(),
        escalate_to: o.escalate_to.clone(),
        lead_time: Some(to_proto_duration(o.lead_time)),
        due_after: (!one_off).then(|| to_proto_duration(o.due_after)),
        first_period_time: (!one_off).then(|| to_timestamp(o.first)),
        due_time: one_off.then(|| to_timestamp(o.first)),
        active: o.active,
        creator: Some(o.creator.to_proto()),
        create_time: Some(to_timestamp(o.created_at)),
        etag: procedo_platform::etag::of(o.row_version),
    }
}

fn filing_to_pb(f: &Filing, now: procedo_platform::time::Millis) -> pb::Filing {
    pb::Filing {
        name: f.resource(),
        obligation: format!("obligations/{}", f.obligation_id),
        regulator: f.regulator.clone(),
        subject: f.subject.clone(),
        period: f.period.clone(),
        period_start_time: Some(to_timestamp(f.period_start)),
        period_end_time: Some(to_timestamp(f.period_end)),
        responsible: f.responsible.clone(),
        escalate_to: f.escalate_to.clone(),
        status: (match f.status {
            FilingStatus::Pending => pb::FilingStatus::Pending,
            FilingStatus::Submitted => pb::FilingStatus::Submitted,
        }) as i32,
        deadline: Some(f.deadline.to_proto(now)),
        remind_time: Some(to_timestamp(f.remind_at)),
        reminded_time: to_timestamp_opt(f.reminded_at),
        escalate_time: to_timestamp_opt(f.escalated_at),
        documents: f.documents.clone(),
        regulator_reference: f.regulator_reference.clone(),
        notes: f.notes.clone(),
        submitted_by: f
            .submitted_by
            .as_ref()
            .map(procedo_platform::person::Person::to_proto),
        history: f
            .history
            .iter()
            .map(|e| {
                let (action, detail, actor, time) = history_to_pb(e);
                pb::FilingEntry {
                    action,
                    detail,
                    actor,
                    time,
                }
            })
            .collect(),
        create_time: Some(to_timestamp(f.created_at)),
        etag: procedo_platform::etag::of(f.row_version),
    }
}

/// A duration from zero to a year; `None` and a violation otherwise.
fn span(field: &str, d: Option<&prost_types::Duration>, v: &mut Violations) -> Option<i64> {
    let Some(d) = d else {
        v.add(field, "is required");
        return None;
    };
    match from_proto_duration(d) {
        Some(ms) if (0..=YEAR_MS).contains(&ms) => Some(ms),
        _ => {
            v.add(field, "must be from 0 to a year");
            None
        }
    }
}

#[tonic::async_trait]
impl pb::filing_service_server::FilingService for FilingApi {
    async fn create_obligation(
        &self,
        r: Request<pb::CreateObligationRequest>,
    ) -> Result<Response<pb::Obligation>, Status> {
        let actor = authorize(&r, ADMINS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("CreateObligation", actor, v.request_id(&r.request_id, &r));
        let regulator = v.required_line("regulator", &r.regulator, 200);
        let subject = v.required_line("subject", &r.subject, 200);
        let recurrence = match pb::Recurrence::try_from(r.recurrence) {
            Ok(pb::Recurrence::Monthly) => Some(Recurrence::Monthly),
            Ok(pb::Recurrence::Quarterly) => Some(Recurrence::Quarterly),
            Ok(pb::Recurrence::Yearly) => Some(Recurrence::Yearly),
            Ok(pb::Recurrence::OneOff) => Some(Recurrence::OneOff),
            _ => {
                v.add(
                    "recurrence",
                    "must be RECURRENCE_MONTHLY, _QUARTERLY, _YEARLY or _ONE_OFF",
                );
                None
            }
        };
        let responsible = v.required_line("responsible", &r.responsible, 200);
        let department = v.optional_line("department", &r.department, 200);
        let escalate_to = v.optional_line("escalate_to", &r.escalate_to, 200);
        let lead_time = span("lead_time", r.lead_time.as_ref(), &mut v);
        let (due_after, first) = match recurrence {
            Some(Recurrence::OneOff) => {
                if r.due_after.is_some() || r.first_period_time.is_some() {
                    v.add("due_time", "a one-off obligation takes due_time only (not due_after or first_period_time)");
                }
                if r.due_time.is_none() {
                    v.add("due_time", "is required for a one-off obligation");
                }
                (Some(0), v.time_opt("due_time", r.due_time.as_ref()))
            }
            Some(_) => {
                if r.due_time.is_some() {
                    v.add(
                        "due_time",
                        "is for one-off obligations; recurring ones take due_after",
                    );
                }
                if r.first_period_time.is_none() {
                    v.add(
                        "first_period_time",
                        "is required for a recurring obligation",
                    );
                }
                (
                    span("due_after", r.due_after.as_ref(), &mut v),
                    v.time_opt("first_period_time", r.first_period_time.as_ref()),
                )
            }
            None => (None, None),
        };
        v.finish()?;
        let (Some(recurrence), Some(lead_time), Some(due_after), Some(first)) =
            (recurrence, lead_time, due_after, first)
        else {
            return Err(Status::invalid_argument("the obligation is incomplete"));
        };
        let request = ObligationRequest {
            regulator,
            subject,
            recurrence,
            responsible,
            department,
            escalate_to,
            lead_time,
            due_after,
            first,
        };
        Ok(Response::new(
            self.app
                .create_obligation(&call, request, obligation_to_pb)
                .await?,
        ))
    }

    async fn get_obligation(
        &self,
        r: Request<pb::GetObligationRequest>,
    ) -> Result<Response<pb::Obligation>, Status> {
        authorize(&r, READERS)?;
        let mut v = Violations::new();
        let id = v.resource_id("name", "obligations", &r.get_ref().name);
        v.finish()?;
        Ok(Response::new(obligation_to_pb(
            &self.app.obligation(&id).await?,
        )))
    }

    async fn list_obligations(
        &self,
        r: Request<pb::ListObligationsRequest>,
    ) -> Result<Response<pb::ListObligationsResponse>, Status> {
        authorize(&r, READERS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        v.finish()?;
        let (obligations, next_page_token) = self.app.obligations(r.include_retired, &page).await?;
        Ok(Response::new(pb::ListObligationsResponse {
            obligations: obligations.iter().map(obligation_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn retire_obligation(
        &self,
        r: Request<pb::RetireObligationRequest>,
    ) -> Result<Response<pb::Obligation>, Status> {
        let actor = authorize(&r, ADMINS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("RetireObligation", actor, v.request_id(&r.request_id, &r));
        let id = v.resource_id("name", "obligations", &r.name);
        v.finish()?;
        Ok(Response::new(
            self.app
                .retire_obligation(&call, &id, &r.etag, obligation_to_pb)
                .await?,
        ))
    }

    async fn get_filing(
        &self,
        r: Request<pb::GetFilingRequest>,
    ) -> Result<Response<pb::Filing>, Status> {
        let actor = authenticated(&r)?;
        let mut v = Violations::new();
        let id = v.resource_id("name", "filings", &r.get_ref().name);
        v.finish()?;
        let filing = self.app.filing(&actor, &id).await?;
        Ok(Response::new(filing_to_pb(&filing, self.app.now())))
    }

    async fn list_filings(
        &self,
        r: Request<pb::ListFilingsRequest>,
    ) -> Result<Response<pb::ListFilingsResponse>, Status> {
        let actor = authenticated(&r)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        let now = self.app.now();
        if r.upcoming_only && r.overdue_only {
            v.add(
                "overdue_only",
                "give at most one of upcoming_only and overdue_only",
            );
        }
        let filter = FilingFilter {
            obligation_id: v.optional_resource_id("obligation", "obligations", &r.obligation),
            status: match pb::FilingStatus::try_from(r.status) {
                Ok(pb::FilingStatus::Unspecified) => None,
                Ok(pb::FilingStatus::Pending) => Some(FilingStatus::Pending),
                Ok(pb::FilingStatus::Submitted) => Some(FilingStatus::Submitted),
                Err(_) => {
                    v.add("status", "is not a FilingStatus");
                    None
                }
            },
            person: String::new(),
            upcoming_at: r.upcoming_only.then_some(now),
            overdue_at: r.overdue_only.then_some(now),
        };
        v.finish()?;
        let (filings, next_page_token) = self.app.filings(&actor, filter, &page).await?;
        Ok(Response::new(pb::ListFilingsResponse {
            filings: filings.iter().map(|f| filing_to_pb(f, now)).collect(),
            next_page_token,
        }))
    }

    async fn submit_filing(
        &self,
        r: Request<pb::SubmitFilingRequest>,
    ) -> Result<Response<pb::Filing>, Status> {
        let actor = authenticated(&r)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let call = Call::new("SubmitFiling", actor, v.request_id(&r.request_id, &r));
        let id = v.resource_id("name", "filings", &r.name);
        if r.documents.is_empty() {
            v.add("documents", "give at least one document that was sent");
        }
        let documents = evidence_of("documents", &r.documents, &mut v);
        let reference = v.required_line("regulator_reference", &r.regulator_reference, 200);
        let notes = v.optional_text("notes", &r.notes, 4_000);
        v.finish()?;
        let now = self.app.now();
        Ok(Response::new(
            self.app
                .submit_filing(&call, &id, &r.etag, documents, reference, notes, |f| {
                    filing_to_pb(f, now)
                })
                .await?,
        ))
    }
}
