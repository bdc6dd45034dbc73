//! Review (§4.2): rounds of seats that comment and decide; changes send a
//! document back, approval moves it on; the history of rounds is kept.

use procedo_platform::identity::{Clearance, Role};
use procedo_proto::common;
use procedo_proto::document as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{DocumentClient, TestDocument, register, upload, violated_fields};

backend_tests!(
    a_version_goes_round_until_every_reviewer_approves_and_the_rounds_are_kept,
    a_confidential_document_is_reviewed_by_its_department_or_named_reviewers,
);

fn person(subject: &str) -> pb::ReviewerSeat {
    pb::ReviewerSeat {
        seat: Some(pb::reviewer_seat::Seat::Reviewer(subject.into())),
    }
}

fn pool(department: &str, role: &str) -> pb::ReviewerSeat {
    pb::ReviewerSeat {
        seat: Some(pb::reviewer_seat::Seat::Pool(pb::ReviewerPool {
            department: department.into(),
            role: role.into(),
        })),
    }
}

async fn document(client: &mut DocumentClient) -> pb::Document {
    let name = client
        .register_document(register("contract", "Supply contract"))
        .await
        .expect("registered")
        .into_inner()
        .name;
    get(client, &name).await
}

async fn get(client: &mut DocumentClient, name: &str) -> pb::Document {
    client
        .get_document(pb::GetDocumentRequest { name: name.into() })
        .await
        .expect("read")
        .into_inner()
}

fn decide(
    round: &pb::ReviewRound,
    decision: pb::ReviewDecision,
    comment: &str,
) -> pb::DecideReviewRequest {
    pb::DecideReviewRequest {
        round: round.name.clone(),
        decision: decision as i32,
        comment: comment.into(),
        ..Default::default()
    }
}

async fn a_version_goes_round_until_every_reviewer_approves_and_the_rounds_are_kept(
    backend: Backend,
) {
    let app = TestDocument::spawn(backend).await;
    app.category("contract", "HT-{seq:6}", pb::NumberReset::Never)
        .await;
    let mut li = app.person("li", "sales", &[Role::Executor], Clearance::Internal);
    let mut zhang = app.person("zhang", "finance", &[Role::Approver], Clearance::Internal);
    let mut qian = app.person("qian", "legal", &[Role::Reviewer], Clearance::Internal);
    let mut wu = app.person("wu", "ops", &[Role::Reviewer], Clearance::Internal);
    let d = document(&mut li).await;
    let submit = |d: &pb::Document| pb::SubmitForReviewRequest {
        document: d.name.clone(),
        etag: d.etag.clone(),
        seats: vec![person("zhang"), pool("legal", "reviewer")],
        ..Default::default()
    };
    let empty = li
        .submit_for_review(submit(&d))
        .await
        .expect_err("no content yet");
    assert_eq!(empty.code(), Code::FailedPrecondition);
    upload(&mut li, &d, b"version one", 4)
        .await
        .expect("uploaded");
    let d = get(&mut li, &d.name).await;
    let first = li
        .submit_for_review(submit(&d))
        .await
        .expect("submitted")
        .into_inner();
    assert_eq!((first.round, first.version), (1, 1));
    assert_eq!(first.status(), pb::ReviewRoundStatus::Open);
    let d = get(&mut li, &d.name).await;
    assert_eq!(d.status(), pb::DocumentStatus::InReview);
    let frozen = upload(&mut li, &d, b"sneaky edit", 4)
        .await
        .expect_err("in review");
    assert_eq!(frozen.code(), Code::FailedPrecondition);

    let comment = zhang
        .add_review_comment(pb::AddReviewCommentRequest {
            round: first.name.clone(),
            aspect: pb::ReviewAspect::Accuracy as i32,
            anchor: "p. 2, §3".into(),
            text: "The price does not match the quotation.".into(),
            ..Default::default()
        })
        .await
        .expect("commented")
        .into_inner();
    assert_eq!((comment.version, comment.anchor.as_str()), (1, "p. 2, §3"));
    let outsider = wu
        .add_review_comment(pb::AddReviewCommentRequest {
            round: first.name.clone(),
            text: "drive-by".into(),
            ..Default::default()
        })
        .await
        .expect_err("not a reviewer");
    assert_eq!(outsider.code(), Code::PermissionDenied);
    let own = li
        .decide_review(decide(&first, pb::ReviewDecision::Approve, ""))
        .await
        .expect_err("not the author");
    assert_eq!(own.code(), Code::PermissionDenied);
    let no_reason = zhang
        .decide_review(decide(&first, pb::ReviewDecision::RequestChanges, ""))
        .await
        .expect_err("say what must change");
    assert_eq!(violated_fields(&no_reason), ["comment"]);
    zhang
        .decide_review(decide(
            &first,
            pb::ReviewDecision::RequestChanges,
            "fix the price",
        ))
        .await
        .expect("changes requested");
    let twice = zhang
        .decide_review(decide(&first, pb::ReviewDecision::Approve, ""))
        .await
        .expect_err("decided already");
    assert_eq!(twice.code(), Code::PermissionDenied);
    let stale = qian
        .decide_review(pb::DecideReviewRequest {
            etag: first.etag.clone(),
            ..decide(&first, pb::ReviewDecision::Approve, "")
        })
        .await
        .expect_err("the round moved on");
    assert_eq!(stale.code(), Code::Aborted);
    let closed = qian
        .decide_review(decide(&first, pb::ReviewDecision::Approve, "fine by legal"))
        .await
        .expect("the legal pool decides")
        .into_inner();
    assert_eq!(closed.status(), pb::ReviewRoundStatus::ChangesRequested);
    assert_eq!(
        closed.seats[1]
            .decided_by
            .as_ref()
            .map(|a| a.subject.as_str()),
        Some("qian")
    );
    let d = get(&mut li, &d.name).await;
    assert_eq!(d.status(), pb::DocumentStatus::Draft, "back to the author");

    upload(&mut li, &d, b"version two", 4)
        .await
        .expect("uploaded");
    let d = get(&mut li, &d.name).await;
    let second = li
        .submit_for_review(submit(&d))
        .await
        .expect("submitted")
        .into_inner();
    assert_eq!((second.round, second.version), (2, 2));
    zhang
        .decide_review(decide(&second, pb::ReviewDecision::Approve, ""))
        .await
        .expect("approved");
    let done = qian
        .decide_review(decide(&second, pb::ReviewDecision::Approve, ""))
        .await
        .expect("approved")
        .into_inner();
    assert_eq!(done.status(), pb::ReviewRoundStatus::Approved);
    assert!(done.close_time.is_some());
    assert_eq!(
        get(&mut li, &d.name).await.status(),
        pb::DocumentStatus::Approved
    );

    let rounds = wu
        .list_review_rounds(pb::ListReviewRoundsRequest {
            document: d.name.clone(),
            ..Default::default()
        })
        .await
        .expect("the history")
        .into_inner()
        .rounds;
    assert_eq!(rounds.iter().map(|r| r.round).collect::<Vec<_>>(), [2, 1]);
    let comments = wu
        .list_review_comments(pb::ListReviewCommentsRequest {
            round: first.name.clone(),
            ..Default::default()
        })
        .await
        .expect("comments")
        .into_inner()
        .comments;
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].version, 1, "the comment stays with version 1");
}

async fn a_confidential_document_is_reviewed_by_its_department_or_named_reviewers(
    backend: Backend,
) {
    let app = TestDocument::spawn(backend).await;
    app.category("contract", "HT-{seq:6}", pb::NumberReset::Never)
        .await;
    let mut li = app.person("li", "sales", &[Role::Executor], Clearance::Confidential);
    let mut request = register("contract", "Key account terms");
    request.confidentiality = common::Clearance::Confidential as i32;
    let d = li
        .register_document(request)
        .await
        .expect("registered")
        .into_inner();
    upload(&mut li, &d, b"terms", 2).await.expect("uploaded");
    let d = get(&mut li, &d.name).await;
    let mut zhang = app.person(
        "zhang",
        "finance",
        &[Role::Approver],
        Clearance::Confidential,
    );
    assert_eq!(
        zhang
            .get_document(pb::GetDocumentRequest {
                name: d.name.clone()
            })
            .await
            .expect_err("not yet theirs to see")
            .code(),
        Code::NotFound
    );
    let other_pool = li
        .submit_for_review(pb::SubmitForReviewRequest {
            document: d.name.clone(),
            seats: vec![pool("legal", "reviewer")],
            ..Default::default()
        })
        .await
        .expect_err("another department's pool");
    assert_eq!(violated_fields(&other_pool), ["seats[0].pool.department"]);
    let round = li
        .submit_for_review(pb::SubmitForReviewRequest {
            document: d.name.clone(),
            seats: vec![person("zhang"), pool("sales", "department_head")],
            ..Default::default()
        })
        .await
        .expect("submitted")
        .into_inner();
    let seen = zhang
        .get_document(pb::GetDocumentRequest {
            name: d.name.clone(),
        })
        .await
        .expect("a named reviewer reads it")
        .into_inner();
    assert!(seen.grantees.contains(&"zhang".to_owned()));
    zhang
        .decide_review(decide(&round, pb::ReviewDecision::Approve, ""))
        .await
        .expect("decided");
}
