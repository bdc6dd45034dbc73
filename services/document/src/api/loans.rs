//! Borrowing: anyone cleared asks; archivists (and owning heads for
//! confidential documents) decide; archivists take loans back.

use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::identity::Role;
use procedo_platform::paging::Page;
use procedo_platform::time::to_timestamp_opt;
use procedo_platform::validate::Violations;
use procedo_proto::document as pb;
use tonic::{Request, Response, Status};

use super::DocumentApi;
use crate::app::{Call, Lendable};
use crate::domain::loan::{Loan, LoanStatus, NewLoan, Scope};
use crate::store::LoanFilter;

/// The wire loan; `now` decides whether its deadline is overdue.
pub fn loan_to_pb(l: &Loan, now: procedo_platform::time::Millis) -> pb::Loan {
    pb::Loan {
        name: l.resource(),
        document: format!("documents/{}", l.document_id),
        document_number: l.document_number.clone(),
        owning_department: l.owning_department.clone(),
        version: l.version,
        borrower: Some(l.borrower.to_proto()),
        scope: match l.scope {
            Scope::View => pb::LoanScope::View,
            Scope::Copy => pb::LoanScope::Copy,
            Scope::PaperOriginal => pb::LoanScope::PaperOriginal,
        } as i32,
        purpose: l.purpose.clone(),
        period: Some(l.period.to_proto()),
        status: match l.status {
            LoanStatus::Requested => pb::LoanStatus::Requested,
            LoanStatus::Active => pb::LoanStatus::Active,
            LoanStatus::Rejected => pb::LoanStatus::Rejected,
            LoanStatus::Returned => pb::LoanStatus::Returned,
        } as i32,
        approvals_needed: l.needs.iter().map(|n| n.as_str().to_owned()).collect(),
        deadline: l.deadline.as_ref().map(|d| d.to_proto(now)),
        escalate_time: to_timestamp_opt(l.escalated_at),
        renewal: l.renewal.map(procedo_platform::calendar::Limit::to_proto),
        return_condition: l.condition.clone(),
        returned_sha256: l.returned_sha256.clone(),
        integrity: match l.integrity {
            None => pb::IntegrityCheck::Unspecified,
            Some(true) => pb::IntegrityCheck::Match,
            Some(false) => pb::IntegrityCheck::Mismatch,
        } as i32,
        history: l
            .history
            .iter()
            .map(|e| pb::LoanEntry {
                action: e.action.clone(),
                detail: e.detail.clone(),
                actor: Some(e.actor.to_proto()),
                time: Some(procedo_platform::time::to_timestamp(e.at)),
            })
            .collect(),
        create_time: Some(procedo_platform::time::to_timestamp(l.created_at)),
        etag: procedo_platform::etag::of(l.row_version),
    }
}

fn loan_id(field: &str, name: &str, v: &mut Violations) -> String {
    v.resource_id(field, "loans", name)
}

pub async fn request(
    api: &DocumentApi,
    r: Request<pb::RequestLoanRequest>,
) -> Result<Response<pb::Loan>, Status> {
    let actor = authenticated(&r)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("RequestLoan", actor, v.request_id(&r.request_id, &r));
    let what = match (r.document.is_empty(), r.number.trim().is_empty()) {
        (false, true) => Lendable::Document(v.resource_id("document", "documents", &r.document)),
        (true, false) => Lendable::Number(v.required_line("number", &r.number, 100)),
        _ => {
            v.add("document", "give the document or its number (one of them)");
            Lendable::Number(String::new())
        }
    };
    let scope = match pb::LoanScope::try_from(r.scope) {
        Ok(pb::LoanScope::View) => Some(Scope::View),
        Ok(pb::LoanScope::Copy) => Some(Scope::Copy),
        Ok(pb::LoanScope::PaperOriginal) => Some(Scope::PaperOriginal),
        _ => {
            v.add("scope", "must be LOAN_SCOPE_VIEW, _COPY or _PAPER_ORIGINAL");
            None
        }
    };
    let purpose = v.required_text("purpose", &r.purpose, 2_000);
    let period = v.time_limit("period", r.period.as_ref());
    v.finish()?;
    let (Some(scope), Some(period)) = (scope, period) else {
        return Err(Status::invalid_argument("scope and period are required"));
    };
    let new = NewLoan {
        scope,
        purpose,
        period,
    };
    Ok(Response::new(
        api.app
            .request_loan(&call, what, new, |l| loan_to_pb(l, api.app.now()))
            .await?,
    ))
}

pub async fn decide(
    api: &DocumentApi,
    r: Request<pb::DecideLoanRequest>,
) -> Result<Response<pb::Loan>, Status> {
    let actor = authorize(&r, &[Role::Archivist, Role::DepartmentHead])?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("DecideLoan", actor, v.request_id(&r.request_id, &r));
    let id = loan_id("loan", &r.loan, &mut v);
    let approve = match pb::LoanDecision::try_from(r.decision) {
        Ok(pb::LoanDecision::Approve) => true,
        Ok(pb::LoanDecision::Reject) => false,
        _ => {
            v.add(
                "decision",
                "must be LOAN_DECISION_APPROVE or LOAN_DECISION_REJECT",
            );
            false
        }
    };
    let comment = v.optional_text("comment", &r.comment, 2_000);
    v.finish()?;
    Ok(Response::new(
        api.app
            .decide_loan(&call, &id, &r.etag, approve, comment, |l| {
                loan_to_pb(l, api.app.now())
            })
            .await?,
    ))
}

pub async fn renew(
    api: &DocumentApi,
    r: Request<pb::RequestRenewalRequest>,
) -> Result<Response<pb::Loan>, Status> {
    let actor = authenticated(&r)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("RequestRenewal", actor, v.request_id(&r.request_id, &r));
    let id = loan_id("loan", &r.loan, &mut v);
    let period = v.time_limit("period", r.period.as_ref());
    let reason = v.optional_text("reason", &r.reason, 2_000);
    v.finish()?;
    let Some(period) = period else {
        return Err(Status::invalid_argument("period is required"));
    };
    Ok(Response::new(
        api.app
            .request_renewal(&call, &id, &r.etag, period, reason, |l| {
                loan_to_pb(l, api.app.now())
            })
            .await?,
    ))
}

pub async fn give_back(
    api: &DocumentApi,
    r: Request<pb::ReturnLoanRequest>,
) -> Result<Response<pb::Loan>, Status> {
    let actor = authorize(&r, &[Role::Archivist])?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("ReturnLoan", actor, v.request_id(&r.request_id, &r));
    let id = loan_id("loan", &r.loan, &mut v);
    let condition = v.optional_text("condition", &r.condition, 2_000);
    let sha256 = r.returned_sha256.trim().to_lowercase();
    if !sha256.is_empty() && (sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        v.add("returned_sha256", "must be 64 hexadecimal digits");
    }
    v.finish()?;
    Ok(Response::new(
        api.app
            .return_loan(&call, &id, &r.etag, condition, sha256, |l| {
                loan_to_pb(l, api.app.now())
            })
            .await?,
    ))
}

pub async fn get(
    api: &DocumentApi,
    r: Request<pb::GetLoanRequest>,
) -> Result<Response<pb::Loan>, Status> {
    let actor = authenticated(&r)?;
    let mut v = Violations::new();
    let id = loan_id("name", &r.get_ref().name, &mut v);
    v.finish()?;
    Ok(Response::new(loan_to_pb(
        &api.app.loan(&actor, &id).await?,
        api.app.now(),
    )))
}

pub async fn list(
    api: &DocumentApi,
    r: Request<pb::ListLoansRequest>,
) -> Result<Response<pb::ListLoansResponse>, Status> {
    let actor = authenticated(&r)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let page = Page::of(&r, &mut v);
    let document_id =
        (!r.document.is_empty()).then(|| v.resource_id("document", "documents", &r.document));
    let status = match pb::LoanStatus::try_from(r.status) {
        Ok(pb::LoanStatus::Unspecified) => None,
        Ok(pb::LoanStatus::Requested) => Some(LoanStatus::Requested),
        Ok(pb::LoanStatus::Active) => Some(LoanStatus::Active),
        Ok(pb::LoanStatus::Rejected) => Some(LoanStatus::Rejected),
        Ok(pb::LoanStatus::Returned) => Some(LoanStatus::Returned),
        Err(_) => {
            v.add("status", format!("{} is not a loan status", r.status));
            None
        }
    };
    v.finish()?;
    let filter = LoanFilter {
        borrower: None,
        document_id,
        status,
        overdue_at: r.overdue_only.then(|| api.app.now()),
    };
    let (rows, next_page_token) = api.app.loans(&actor, filter, &page).await?;
    Ok(Response::new(pb::ListLoansResponse {
        loans: rows.iter().map(|l| loan_to_pb(l, api.app.now())).collect(),
        next_page_token,
    }))
}
