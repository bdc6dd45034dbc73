//! Review: authors submit, reviewers comment and decide. Who sits on a
//! round decides who may act on it; roles do not.

use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::identity::Role;
use procedo_platform::paging::Page;
use procedo_platform::validate::Violations;
use procedo_proto::document as pb;
use tonic::{Request, Response, Status};

use super::DocumentApi;
use super::convert::{comment_to_pb, round_to_pb};
use super::documents::AUTHORS;
use crate::app::{Call, NewComment};
use crate::domain::review::{Aspect, Decision, Seat};

/// The document and round of "documents/{id}/reviewRounds/{n}".
fn round_of(field: &str, name: &str, v: &mut Violations) -> (String, i32) {
    match name.split_once("/reviewRounds/") {
        Some((document, n)) => {
            let id = v.resource_id(field, "documents", document);
            let n = n.parse::<i32>().ok().filter(|n| *n > 0).unwrap_or_else(|| {
                v.add(
                    field,
                    "must be \"documents/<uuid>/reviewRounds/<n>\" (n from 1)",
                );
                0
            });
            (id, n)
        }
        None => {
            v.add(field, "must be \"documents/<uuid>/reviewRounds/<n>\"");
            (String::new(), 0)
        }
    }
}

fn seats(values: &[pb::ReviewerSeat], v: &mut Violations) -> Vec<Seat> {
    if values.is_empty() {
        v.add("seats", "name at least one reviewer or pool");
    }
    let mut out = Vec::new();
    for (i, s) in v.at_most("seats", values, 20).iter().enumerate() {
        let at = format!("seats[{i}]");
        let seat = match &s.seat {
            Some(pb::reviewer_seat::Seat::Reviewer(subject)) => {
                Seat::Person(v.required_line(&format!("{at}.reviewer"), subject, 100))
            }
            Some(pb::reviewer_seat::Seat::Pool(pool)) => {
                let department =
                    v.required_line(&format!("{at}.pool.department"), &pool.department, 100);
                let role = v.required_line(&format!("{at}.pool.role"), &pool.role, 40);
                if !role.is_empty() && Role::parse(&role).is_none() {
                    v.add(format!("{at}.pool.role"), format!("{role:?} is not a role"));
                }
                Seat::Pool { department, role }
            }
            None => {
                v.add(at, "is required: a reviewer or a pool");
                continue;
            }
        };
        if out.contains(&seat) {
            v.add(format!("seats[{i}]"), "names a seat listed before");
        } else {
            out.push(seat);
        }
    }
    out
}

pub async fn submit(
    api: &DocumentApi,
    r: Request<pb::SubmitForReviewRequest>,
) -> Result<Response<pb::ReviewRound>, Status> {
    let actor = authorize(&r, AUTHORS)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("SubmitForReview", actor, v.request_id(&r.request_id, &r));
    let id = v.resource_id("document", "documents", &r.document);
    let seats = seats(&r.seats, &mut v);
    v.finish()?;
    Ok(Response::new(
        api.app
            .submit_for_review(&call, &id, &r.etag, seats, round_to_pb)
            .await?,
    ))
}

pub async fn decide(
    api: &DocumentApi,
    r: Request<pb::DecideReviewRequest>,
) -> Result<Response<pb::ReviewRound>, Status> {
    let actor = authenticated(&r)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("DecideReview", actor, v.request_id(&r.request_id, &r));
    let (id, number) = round_of("round", &r.round, &mut v);
    let decision = match pb::ReviewDecision::try_from(r.decision) {
        Ok(pb::ReviewDecision::Approve) => Some(Decision::Approve),
        Ok(pb::ReviewDecision::RequestChanges) => Some(Decision::RequestChanges),
        _ => {
            v.add(
                "decision",
                "must be REVIEW_DECISION_APPROVE or REVIEW_DECISION_REQUEST_CHANGES",
            );
            None
        }
    };
    let comment = v.optional_text("comment", &r.comment, 10_000);
    v.finish()?;
    let Some(decision) = decision else {
        return Err(Status::invalid_argument("decision is required"));
    };
    Ok(Response::new(
        api.app
            .decide_review(
                &call,
                (&id, number),
                &r.etag,
                decision,
                comment,
                round_to_pb,
            )
            .await?,
    ))
}

pub async fn comment(
    api: &DocumentApi,
    r: Request<pb::AddReviewCommentRequest>,
) -> Result<Response<pb::ReviewComment>, Status> {
    let actor = authenticated(&r)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let call = Call::new("AddReviewComment", actor, v.request_id(&r.request_id, &r));
    let (id, number) = round_of("round", &r.round, &mut v);
    let aspect = match pb::ReviewAspect::try_from(r.aspect) {
        Ok(pb::ReviewAspect::Accuracy) => Aspect::Accuracy,
        Ok(pb::ReviewAspect::Format) => Aspect::Format,
        Ok(pb::ReviewAspect::Compliance) => Aspect::Compliance,
        Ok(pb::ReviewAspect::Other | pb::ReviewAspect::Unspecified) => Aspect::Other,
        Err(_) => {
            v.add("aspect", format!("{} is not an aspect", r.aspect));
            Aspect::Other
        }
    };
    let new = NewComment {
        aspect,
        anchor: v.optional_line("anchor", &r.anchor, 200),
        text: v.required_text("text", &r.text, 10_000),
    };
    v.finish()?;
    Ok(Response::new(
        api.app
            .comment_on_review(&call, (&id, number), new, comment_to_pb)
            .await?,
    ))
}

pub async fn get(
    api: &DocumentApi,
    r: Request<pb::GetReviewRoundRequest>,
) -> Result<Response<pb::ReviewRound>, Status> {
    let actor = authenticated(&r)?;
    let mut v = Violations::new();
    let (id, number) = round_of("name", &r.get_ref().name, &mut v);
    v.finish()?;
    Ok(Response::new(round_to_pb(
        &api.app.review_round(&actor, &id, number).await?,
    )))
}

pub async fn list(
    api: &DocumentApi,
    r: Request<pb::ListReviewRoundsRequest>,
) -> Result<Response<pb::ListReviewRoundsResponse>, Status> {
    let actor = authenticated(&r)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let id = v.resource_id("document", "documents", &r.document);
    let page = Page::of(&r, &mut v);
    v.finish()?;
    let (rows, next_page_token) = api.app.review_rounds(&actor, &id, &page).await?;
    Ok(Response::new(pb::ListReviewRoundsResponse {
        rounds: rows.iter().map(round_to_pb).collect(),
        next_page_token,
    }))
}

pub async fn comments(
    api: &DocumentApi,
    r: Request<pb::ListReviewCommentsRequest>,
) -> Result<Response<pb::ListReviewCommentsResponse>, Status> {
    let actor = authenticated(&r)?;
    let r = r.into_inner();
    let mut v = Violations::new();
    let (id, number) = round_of("round", &r.round, &mut v);
    let page = Page::of(&r, &mut v);
    v.finish()?;
    let (rows, next_page_token) = api
        .app
        .review_comments(&actor, (&id, number), &page)
        .await?;
    Ok(Response::new(pb::ListReviewCommentsResponse {
        comments: rows.iter().map(comment_to_pb).collect(),
        next_page_token,
    }))
}
