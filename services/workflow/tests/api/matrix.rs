use procedo_platform::identity::Role;
use procedo_platform::time;
use procedo_proto::workflow as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{TestWorkflow, cny, matrix, violated_fields};

backend_tests!(
    the_approval_chain_follows_the_amount_band,
    a_matrix_with_overlapping_or_missing_bands_is_refused,
    a_matrix_takes_effect_on_its_date_and_earlier_versions_still_answer_for_earlier_times,
);

async fn chain(
    app: &TestWorkflow,
    business_type: &str,
    minor_units: i64,
    at: Option<prost_types::Timestamp>,
) -> Result<pb::ResolveApprovalChainResponse, tonic::Status> {
    app.client(Role::Executor)
        .resolve_approval_chain(pb::ResolveApprovalChainRequest {
            business_type: business_type.into(),
            amount: Some(cny(minor_units)),
            at_time: at,
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn the_approval_chain_follows_the_amount_band(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let before = chain(&app, "project", 1, None)
        .await
        .expect_err("no matrix yet");
    app.publish_matrix().await;

    let small = chain(&app, "project", 99_999_999, None)
        .await
        .expect("small");
    let large = chain(&app, "project", 100_000_000, None)
        .await
        .expect("large");
    let other = chain(&app, "lease", 5, None).await.expect("fallback");
    let usd = app
        .client(Role::Executor)
        .resolve_approval_chain(pb::ResolveApprovalChainRequest {
            business_type: "project".into(),
            amount: Some(procedo_proto::common::Money {
                currency_code: "USD".into(),
                minor_units: 5,
            }),
            at_time: None,
        })
        .await
        .expect_err("another currency");

    let levels = |r: &pb::ResolveApprovalChainResponse| {
        r.levels.iter().map(|l| l.name.clone()).collect::<Vec<_>>()
    };
    assert_eq!(before.code(), Code::NotFound);
    assert_eq!(levels(&small), ["Department head"]);
    assert_eq!(levels(&large), ["Department head", "Vice-president"]);
    assert_eq!(levels(&other), ["Department head"]);
    assert_eq!(large.matrix_version, 1);
    assert_eq!(violated_fields(&usd), ["amount.currency_code"]);
}

async fn a_matrix_with_overlapping_or_missing_bands_is_refused(backend: Backend) {
    let app = TestWorkflow::spawn(backend).await;
    let mut overlapping = matrix(None);
    overlapping.rules[1].min_minor_units = 50;
    let mut unknown_level = matrix(None);
    unknown_level.rules[0].levels = vec![7];
    let mut open_start = matrix(None);
    open_start.rules[0].min_minor_units = 10;

    for (what, m, words) in [
        ("overlap", overlapping, "overlaps"),
        ("unknown level", unknown_level, "level 7 is not"),
        ("gap at zero", open_start, "without a rule"),
    ] {
        let err = app
            .client(Role::Admin)
            .publish_authorization_matrix(pb::PublishAuthorizationMatrixRequest {
                request_id: String::new(),
                matrix: Some(m),
            })
            .await
            .expect_err(what);
        assert_eq!(err.code(), Code::InvalidArgument, "{what}");
        assert!(err.message().contains(words), "{what}: {}", err.message());
    }
    let none = app
        .client(Role::Auditor)
        .get_authorization_matrix(pb::GetAuthorizationMatrixRequest::default())
        .await;
    assert_eq!(none.expect_err("nothing published").code(), Code::NotFound);
}

async fn a_matrix_takes_effect_on_its_date_and_earlier_versions_still_answer_for_earlier_times(
    backend: Backend,
) {
    let app = TestWorkflow::spawn(backend).await;
    app.publish_matrix().await;
    let next_month = time::now() + 30 * 86_400_000;
    let mut stricter = matrix(Some(time::to_timestamp(next_month)));
    stricter.rules[0].levels = vec![1, 2, 3];
    let published = app
        .client(Role::Admin)
        .publish_authorization_matrix(pb::PublishAuthorizationMatrixRequest {
            request_id: String::new(),
            matrix: Some(stricter),
        })
        .await
        .expect("published")
        .into_inner();

    let today = chain(&app, "project", 10, None).await.expect("today");
    let later = chain(
        &app,
        "project",
        10,
        Some(time::to_timestamp(next_month + 1)),
    )
    .await
    .expect("later");

    assert_eq!(published.version, 2);
    assert_eq!((today.matrix_version, today.levels.len()), (1, 1));
    assert_eq!((later.matrix_version, later.levels.len()), (2, 3));
}
