//! Review (§4.2): a version goes to its reviewers; each comments and
//! decides; the round's outcome moves the document on or back.

use procedo_platform::error::Error;
use procedo_platform::etag;
use procedo_platform::identity::{Actor, Clearance};
use procedo_platform::paging::Page;
use prost::Message;
use sqlx::AnyConnection;

use super::{App, Call, events, refused, visible};
use crate::domain::review::{self, Aspect, Comment, Decision, Round, RoundStatus, Seat};
use crate::store;

/// A comment as a reviewer writes it, checked.
#[derive(Debug, Clone)]
pub struct NewComment {
    pub aspect: Aspect,
    pub anchor: String,
    pub text: String,
}

fn review_refused(resource: &str, r: review::Refusal) -> Error {
    match r {
        review::Refusal::State(t) => Error::illegal(resource, t),
        review::Refusal::Denied(message) => Error::Denied(message),
        review::Refusal::Unfit { field, description } => Error::invalid(field, description),
    }
}

async fn round(conn: &mut AnyConnection, document_id: &str, number: i32) -> Result<Round, Error> {
    store::get_round(conn, document_id, number)
        .await?
        .ok_or_else(|| Error::NotFound(format!("documents/{document_id}/reviewRounds/{number}")))
}

impl App {
    /// Sends the current version of draft `id` to `seats`.
    pub async fn submit_for_review<M: Message + Default>(
        &self,
        call: &Call,
        id: &str,
        given_etag: &str,
        seats: Vec<Seat>,
        respond: impl FnOnce(&Round) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut document = visible(&mut tx, id, &call.actor).await?;
        let resource = document.resource();
        let read_version = document.version;
        etag::check(&resource, given_etag, read_version)?;
        let now = self.now();
        document
            .submit_for_review(&call.actor, now)
            .map_err(|r| refused(&resource, r))?;
        if document.confidentiality >= Clearance::Confidential {
            for (i, seat) in seats.iter().enumerate() {
                match seat {
                    // Named reviewers must be able to read what they review.
                    Seat::Person(subject) => document.grant(subject),
                    Seat::Pool { department, .. } if *department != document.owning_department => {
                        return Err(Error::invalid(
                            format!("seats[{i}].pool.department"),
                            "a confidential or secret document is reviewed by pools of its \
                             owning department, or by named reviewers",
                        ));
                    }
                    Seat::Pool { .. } => {}
                }
            }
        }
        let number = store::next_round(&mut tx, &document.id).await?;
        let round = Round::open(
            document.id.clone(),
            number,
            document.current_version,
            seats,
            &call.actor,
            now,
        );
        store::insert_round(&mut tx, &round).await?;
        store::update_document(&mut tx, &document, read_version)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        events::audit(
            &mut tx,
            &call.actor,
            "document.reviews.submit",
            &round.resource(),
            format!("version {}", round.version),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&round)).await
    }

    /// Records the caller's decision; closes the round (and moves the
    /// document) when every seat has decided.
    pub async fn decide_review<M: Message + Default>(
        &self,
        call: &Call,
        (id, number): (&str, i32),
        given_etag: &str,
        decision: Decision,
        comment: String,
        respond: impl FnOnce(&Round) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let mut document = visible(&mut tx, id, &call.actor).await?;
        let mut round = round(&mut tx, id, number).await?;
        let resource = round.resource();
        if call.actor.subject == document.author.subject {
            return Err(Error::Denied(
                "an author does not review their own document".into(),
            ));
        }
        let read_round = round.row_version;
        etag::check(&resource, given_etag, read_round)?;
        let now = self.now();
        round
            .decide(&call.actor, decision, comment, now)
            .map_err(|r| review_refused(&resource, r))?;
        store::update_round(&mut tx, &round, read_round)
            .await
            .map_err(|e| Error::store(&resource, e))?;
        if round.status != RoundStatus::Open {
            let read_document = document.version;
            document.close_review(round.status == RoundStatus::Approved, now);
            store::update_document(&mut tx, &document, read_document)
                .await
                .map_err(|e| Error::store(&document.resource(), e))?;
            if round.status == RoundStatus::Approved {
                events::document_fact(
                    &mut tx,
                    &call.actor,
                    procedo_proto::events::document::APPROVED,
                    &document,
                )
                .await?;
            }
        }
        events::audit(
            &mut tx,
            &call.actor,
            "document.reviews.decide",
            &resource,
            format!("{decision:?}; round {}", round.status.as_str()),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&round)).await
    }

    /// A comment by a reviewer of the round or the document's author.
    pub async fn comment_on_review<M: Message + Default>(
        &self,
        call: &Call,
        (id, number): (&str, i32),
        new: NewComment,
        respond: impl FnOnce(&Comment) -> M,
    ) -> Result<M, Error> {
        let mut tx = procedo_platform::begin!(self.mutations(), call);
        let document = visible(&mut tx, id, &call.actor).await?;
        let round = round(&mut tx, id, number).await?;
        if !round.is_reviewer(&call.actor) && call.actor.subject != document.author.subject {
            return Err(Error::Denied(
                "only the round's reviewers and the document's author comment on it".into(),
            ));
        }
        let mut comment = Comment {
            document_id: document.id.clone(),
            round: round.round,
            seq: 0,
            version: round.version,
            aspect: new.aspect,
            anchor: new.anchor,
            text: new.text,
            author: call.actor.clone(),
            at: self.now(),
        };
        comment.seq = store::insert_comment(&mut tx, &comment).await?;
        events::audit(
            &mut tx,
            &call.actor,
            "document.reviews.comment",
            &round.resource(),
            format!("comment {}", comment.seq),
        )
        .await?;
        self.mutations().finish(tx, call, respond(&comment)).await
    }

    pub async fn review_round(&self, actor: &Actor, id: &str, number: i32) -> Result<Round, Error> {
        let mut conn = self.db().reader().acquire().await?;
        visible(&mut conn, id, actor).await?;
        round(&mut conn, id, number).await
    }

    /// Newest first; the page and the next page's token.
    pub async fn review_rounds(
        &self,
        actor: &Actor,
        id: &str,
        page: &Page,
    ) -> Result<(Vec<Round>, String), Error> {
        {
            let mut conn = self.db().reader().acquire().await?;
            visible(&mut conn, id, actor).await?;
        }
        let mut rows = store::list_rounds(self.db(), id, page).await?;
        let next = page.finish(&mut rows, |r| r.round.to_string());
        Ok((rows, next))
    }

    /// Oldest first; the page and the next page's token.
    pub async fn review_comments(
        &self,
        actor: &Actor,
        (id, number): (&str, i32),
        page: &Page,
    ) -> Result<(Vec<Comment>, String), Error> {
        {
            let mut conn = self.db().reader().acquire().await?;
            visible(&mut conn, id, actor).await?;
            round(&mut conn, id, number).await?;
        }
        let mut rows = store::list_comments(self.db(), id, number, page).await?;
        let next = page.finish(&mut rows, |c| c.seq.to_string());
        Ok((rows, next))
    }
}
