//! Business applications (§2.2): submission with the completeness check,
//! supplements, the preliminary review and withdrawal.

use procedo_platform::auth::authorize;
use procedo_platform::error::Error;
use procedo_platform::identity::Role;
use procedo_platform::paging::Page;
use procedo_platform::time::to_timestamp;
use procedo_platform::validate::Violations;
use procedo_proto::intake as pb;
use tonic::{Request, Response, Status};

use super::IntakeApi;
use super::convert::{self, application_status_to_pb, application_to_pb};
use crate::app::Call;
use crate::domain::application::{ApplicationChange, NewApplication, ReviewDecision};
use crate::domain::application_type::check_code;

const SUBMIT: &[Role] = &[Role::IntakeClerk, Role::Service];
const READ: &[Role] = &[
    Role::IntakeClerk,
    Role::DepartmentHead,
    Role::Auditor,
    Role::Service,
];
const REVIEW: &[Role] = &[Role::IntakeClerk];

pub async fn submit(
    api: &IntakeApi,
    r: Request<pb::SubmitApplicationRequest>,
) -> Result<Response<pb::Application>, Status> {
    let actor = authorize(&r, SUBMIT)?;
    let bearer = procedo_platform::auth::bearer(&r);
    let r = r.into_inner();
    let mut v = Violations::new();
    let call =
        Call::new("SubmitApplication", actor, v.request_id(&r.request_id, &r)).on_behalf(bearer);
    let type_code = check_code("type_code", &r.type_code, &mut v);
    let (title, description) = convert::matter("matter", r.matter.as_ref(), &mut v);
    let new = NewApplication {
        type_code,
        applicant: convert::applicant(r.applicant.as_ref(), &mut v),
        title,
        description,
        amount: v.money("amount", r.amount.as_ref()),
        materials: convert::materials("materials", &r.materials, &mut v),
    };
    v.finish()?;
    let filed = api
        .app
        .submit_application(&call, new, {
            let now = api.app.now();
            move |a| application_to_pb(a, now)
        })
        .await?;
    Ok(Response::new(filed))
}

pub async fn get(
    api: &IntakeApi,
    r: Request<pb::GetApplicationRequest>,
) -> Result<Response<pb::Application>, Status> {
    authorize(&r, READ)?;
    let mut v = Violations::new();
    let id = v.resource_id("name", "applications", &r.get_ref().name);
    v.finish()?;
    let application = api.app.application(&id).await?;
    Ok(Response::new(application_to_pb(
        &application,
        api.app.now(),
    )))
}

/// Applies a change checked from a request.
async fn change(
    api: &IntakeApi,
    call: Call,
    id: &str,
    etag: &str,
    change: ApplicationChange,
) -> Result<Response<pb::Application>, Status> {
    let changed = api
        .app
        .change_application(&call, id, etag, change, |a| {
            application_to_pb(a, api.app.now())
        })
        .await?;
    Ok(Response::new(changed))
}

pub async fn supplement(
    api: &IntakeApi,
    r: Request<pb::SupplementApplicationRequest>,
) -> Result<Response<pb::Application>, Status> {
    let actor = authorize(&r, SUBMIT)?;
    let bearer = procedo_platform::auth::bearer(&r);
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new(
        "SupplementApplication",
        actor,
        v.request_id(&r.request_id, &r),
    )
    .on_behalf(bearer);
    let id = v.resource_id("name", "applications", &r.name);
    let materials = convert::materials("materials", &r.materials, &mut v);
    let matter = r
        .matter
        .as_ref()
        .map(|m| convert::matter("matter", Some(m), &mut v));
    if materials.is_empty() && matter.is_none() {
        v.add("materials", "give materials, a corrected matter, or both");
    }
    let note = v.optional_text("note", &r.note, 2_000);
    v.finish()?;
    let supplement = ApplicationChange::Supplement {
        materials,
        matter,
        note,
    };
    change(api, call, &id, &r.etag, supplement).await
}

pub async fn review(
    api: &IntakeApi,
    r: Request<pb::ReviewApplicationRequest>,
) -> Result<Response<pb::Application>, Status> {
    let actor = authorize(&r, REVIEW)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("ReviewApplication", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("name", "applications", &r.name);
    let decision = match pb::ReviewDecision::try_from(r.decision) {
        Ok(pb::ReviewDecision::Accept) => Some(ReviewDecision::Accept),
        Ok(pb::ReviewDecision::Reject) => {
            let rejection = r.rejection.clone().unwrap_or_default();
            let reason = convert::rejection_reason(rejection.reason, "rejection.reason", &mut v);
            let explanation =
                v.required_text("rejection.explanation", &rejection.explanation, 2_000);
            reason.map(|reason| ReviewDecision::Reject {
                reason,
                explanation,
            })
        }
        Ok(pb::ReviewDecision::RequestCorrection) => {
            if r.correction_items.is_empty() {
                v.add("correction_items", "name at least one item to correct");
            }
            let items = v
                .at_most("correction_items", &r.correction_items, 100)
                .iter()
                .enumerate()
                .map(|(i, item)| v.required_line(&format!("correction_items[{i}]"), item, 500))
                .collect();
            Some(ReviewDecision::RequestCorrection { items })
        }
        Ok(pb::ReviewDecision::Unspecified) => {
            v.add(
                "decision",
                "is required: ACCEPT, REJECT or REQUEST_CORRECTION",
            );
            None
        }
        Err(_) => {
            v.add(
                "decision",
                format!("{} is not a known decision", r.decision),
            );
            None
        }
    };
    let comment = v.optional_text("comment", &r.comment, 2_000);
    v.finish()?;
    // Every branch without a decision recorded a violation above.
    let decision = decision.ok_or_else(|| Error::invalid("decision", "is required"))?;
    let review = ApplicationChange::Review { decision, comment };
    change(api, call, &id, &r.etag, review).await
}

pub async fn withdraw(
    api: &IntakeApi,
    r: Request<pb::WithdrawApplicationRequest>,
) -> Result<Response<pb::Application>, Status> {
    let actor = authorize(&r, SUBMIT)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new(
        "WithdrawApplication",
        actor,
        v.request_id(&r.request_id, &r),
    );
    let id = v.resource_id("name", "applications", &r.name);
    let reason = v.optional_text("reason", &r.reason, 2_000);
    v.finish()?;
    change(
        api,
        call,
        &id,
        &r.etag,
        ApplicationChange::Withdraw { reason },
    )
    .await
}

pub async fn history(
    api: &IntakeApi,
    r: Request<pb::ListApplicationHistoryRequest>,
) -> Result<Response<pb::ListApplicationHistoryResponse>, Status> {
    authorize(&r, READ)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let id = v.resource_id("name", "applications", &r.name);
    let page = Page::of(&r, &mut v);
    v.finish()?;
    let (rows, next_page_token) = api.app.application_history(&id, &page).await?;
    Ok(Response::new(pb::ListApplicationHistoryResponse {
        entries: rows
            .iter()
            .map(|h| pb::ApplicationHistoryEntry {
                from_status: h.from.map_or(0, |s| application_status_to_pb(s) as i32),
                to_status: application_status_to_pb(h.to) as i32,
                action: h.action.clone(),
                reason: h.reason.clone(),
                actor: Some(h.actor.to_proto()),
                time: Some(to_timestamp(h.at)),
            })
            .collect(),
        next_page_token,
    }))
}
