use procedo_platform::identity::Role;
use procedo_proto::common;
use procedo_proto::intake as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{TestIntake, inquiry, submission, violated_fields};

backend_tests!(
    a_submission_missing_everything_names_every_field_and_stores_nothing,
    unknown_enum_values_are_refused_by_name,
    a_negative_amount_is_refused_and_takes_no_ledger_number,
    hostile_text_is_refused_or_stored_verbatim,
    malformed_and_unknown_names_are_told_apart,
    an_oversized_message_is_refused_before_it_is_read,
    a_page_token_that_was_not_issued_is_refused,
    a_bad_application_type_is_refused_with_every_problem,
    a_body_that_is_not_the_methods_message_is_invalid_argument,
    an_oversized_list_is_refused_whole_with_a_small_answer,
    a_flood_of_problems_is_answered_with_fifty_and_a_count,
);

async fn ledger_size(app: &TestIntake) -> usize {
    app.client(Role::Auditor)
        .query_ledger(pb::QueryLedgerRequest::default())
        .await
        .expect("ledger")
        .into_inner()
        .entries
        .len()
}

async fn a_submission_missing_everything_names_every_field_and_stores_nothing(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;

    let err = app
        .client(Role::IntakeClerk)
        .submit_application(pb::SubmitApplicationRequest {
            materials: vec![pb::Material::default()],
            ..Default::default()
        })
        .await
        .expect_err("nothing given");

    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&err),
        [
            "type_code",
            "matter",
            "applicant",
            "materials[0].name",
            "materials[0]"
        ]
    );
    assert_eq!(ledger_size(&app).await, 0);
}

async fn unknown_enum_values_are_refused_by_name(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    let filed = app.submit(submission("loan", "Wang Fang", &[])).await;
    let mut clerk = app.client(Role::IntakeClerk);

    let mut request = inquiry(pb::Channel::Phone);
    request.channel = 99;
    let channel = clerk.create_inquiry(request).await.expect_err("channel 99");
    let decision = clerk
        .review_application(pb::ReviewApplicationRequest {
            name: filed.name.clone(),
            decision: 42,
            ..Default::default()
        })
        .await
        .expect_err("decision 42");
    let status = clerk
        .list_inquiries(pb::ListInquiriesRequest {
            status: 7,
            ..Default::default()
        })
        .await
        .expect_err("status 7");

    assert_eq!(violated_fields(&channel), ["channel"]);
    assert!(channel.message().contains("99 is not a known channel"));
    assert_eq!(violated_fields(&decision), ["decision"]);
    assert_eq!(violated_fields(&status), ["status"]);
    let unchanged = clerk
        .get_application(pb::GetApplicationRequest { name: filed.name })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(unchanged.status(), pb::ApplicationStatus::PendingReview);
}

async fn a_negative_amount_is_refused_and_takes_no_ledger_number(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    let mut request = submission("loan", "Wang Fang", &[]);
    request.amount = Some(common::Money {
        currency_code: "cny".into(),
        minor_units: -1,
    });

    let err = app
        .client(Role::IntakeClerk)
        .submit_application(request)
        .await
        .expect_err("negative");
    let next = app.submit(submission("loan", "Wang Fang", &[])).await;

    assert_eq!(
        violated_fields(&err),
        ["amount.currency_code", "amount.minor_units"]
    );
    assert!(next.ledger_number.ends_with("-000001"));
}

async fn hostile_text_is_refused_or_stored_verbatim(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    let mut clerk = app.client(Role::IntakeClerk);

    let mut control = submission("loan", "Wang\u{0}Fang", &[]);
    control.matter.as_mut().expect("matter").title = "line\u{1b}[31m".into();
    let refused = clerk
        .submit_application(control)
        .await
        .expect_err("control characters");
    let mut long = inquiry(pb::Channel::Phone);
    long.subject = "x".repeat(201);
    let too_long = clerk.create_inquiry(long).await.expect_err("too long");

    let injection = "Robert'); DROP TABLE applications;-- \u{202e}ǝlʇıʇ 申请 🙂";
    let mut odd = submission("loan", injection, &[]);
    odd.matter.as_mut().expect("matter").description =
        format!("{injection}\nsecond line\twith tab");
    let stored = app.submit(odd).await;
    let read = clerk
        .get_application(pb::GetApplicationRequest { name: stored.name })
        .await
        .expect("read back")
        .into_inner();

    assert_eq!(
        violated_fields(&refused),
        ["matter.title", "applicant.name"]
    );
    assert_eq!(violated_fields(&too_long), ["subject"]);
    assert!(too_long.message().contains("at most 200 characters"));
    assert_eq!(read.applicant.expect("applicant").name, injection);
    assert_eq!(
        read.matter.expect("matter").description,
        format!("{injection}\nsecond line\twith tab")
    );
    assert_eq!(ledger_size(&app).await, 1);
}

async fn malformed_and_unknown_names_are_told_apart(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    let mut clerk = app.client(Role::IntakeClerk);

    let malformed = clerk
        .get_application(pb::GetApplicationRequest {
            name: "applications/../../etc/passwd".into(),
        })
        .await
        .expect_err("malformed");
    let unknown = clerk
        .get_application(pb::GetApplicationRequest {
            name: format!("applications/{}", uuid::Uuid::now_v7()),
        })
        .await
        .expect_err("unknown");
    let wrong_collection = clerk
        .get_inquiry(pb::GetInquiryRequest {
            name: format!("applications/{}", uuid::Uuid::now_v7()),
        })
        .await
        .expect_err("wrong collection");

    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&malformed), ["name"]);
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(unknown.message().contains("does not exist"));
    assert_eq!(wrong_collection.code(), Code::InvalidArgument);
}

async fn an_oversized_message_is_refused_before_it_is_read(backend: Backend) {
    let app = TestIntake::spawn_with(backend, |c| {
        c.server.limits.max_message_bytes = 64 * 1024;
    })
    .await;
    let mut request = inquiry(pb::Channel::Phone);
    request.text = "x".repeat(100 * 1024);

    let err = app
        .client(Role::IntakeClerk)
        .create_inquiry(request)
        .await
        .expect_err("too big");

    assert_eq!(err.code(), Code::OutOfRange, "{err:?}");
    let stored = app
        .client(Role::IntakeClerk)
        .list_inquiries(pb::ListInquiriesRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert!(stored.inquiries.is_empty());
}

async fn a_page_token_that_was_not_issued_is_refused(backend: Backend) {
    let app = TestIntake::spawn(backend).await;

    let err = app
        .client(Role::IntakeClerk)
        .list_inquiries(pb::ListInquiriesRequest {
            page_token: "not-a-token".into(),
            page_size: -5,
            ..Default::default()
        })
        .await
        .expect_err("bad paging");

    assert_eq!(violated_fields(&err), ["page_size", "page_token"]);
}

async fn a_bad_application_type_is_refused_with_every_problem(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    let mut admin = app.client(Role::Admin);
    let mut bad = crate::helpers::application_type("Loan Type", &[("ID", true), ("id", false)]);
    bad.processing_time_limit = Some(prost_types::Duration {
        seconds: -3600,
        nanos: 0,
    });

    let err = admin
        .create_application_type(pb::CreateApplicationTypeRequest {
            application_type: Some(bad),
            ..Default::default()
        })
        .await
        .expect_err("bad type");
    app.create_type("loan", &[]).await;
    let duplicate = admin
        .create_application_type(pb::CreateApplicationTypeRequest {
            application_type: Some(crate::helpers::application_type("loan", &[])),
            ..Default::default()
        })
        .await
        .expect_err("taken");

    assert_eq!(
        violated_fields(&err),
        [
            "application_type.code",
            "application_type.materials[1].name",
            "application_type.processing_time_limit"
        ]
    );
    assert_eq!(duplicate.code(), Code::AlreadyExists);
}

/// A message with `name` (field 1) of the wrong kind, or of bytes that are
/// no text.
#[derive(Clone, PartialEq, prost::Message)]
struct NotARequest {
    #[prost(uint64, optional, tag = "1")]
    number: Option<u64>,
    #[prost(bytes = "vec", optional, tag = "2")]
    raw: Option<Vec<u8>>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct NotText {
    #[prost(bytes = "vec", tag = "1")]
    raw: Vec<u8>,
}

async fn send<M: prost::Message + Send + Sync + 'static>(
    app: &TestIntake,
    message: M,
) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(app.server.channel.clone());
    grpc.ready().await.expect("ready");
    let mut request = tonic::Request::new(message);
    let token = format!("Bearer {}", app.tokens.token(Role::IntakeClerk));
    request
        .metadata_mut()
        .insert("authorization", token.parse().expect("ASCII"));
    grpc.unary::<M, pb::Inquiry, _>(
        request,
        tonic::codegen::http::uri::PathAndQuery::from_static(
            "/procedo.intake.v1.IntakeService/GetInquiry",
        ),
        tonic_prost::ProstCodec::default(),
    )
    .await
    .expect_err("not a request of this method")
}

async fn a_body_that_is_not_the_methods_message_is_invalid_argument(backend: Backend) {
    let app = TestIntake::spawn(backend).await;

    let wrong_kind = send(
        &app,
        NotARequest {
            number: Some(7),
            raw: None,
        },
    )
    .await;
    let not_text = send(
        &app,
        NotText {
            raw: vec![0xff, 0xfe, 0xfd],
        },
    )
    .await;

    for status in [wrong_kind, not_text] {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(
            status.message().contains("not a valid message"),
            "{status:?}"
        );
    }
}

async fn an_oversized_list_is_refused_whole_with_a_small_answer(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    let filed = app.submit(submission("loan", "Wang Fang", &[])).await;

    let err = app
        .client(Role::IntakeClerk)
        .review_application(pb::ReviewApplicationRequest {
            name: filed.name.clone(),
            decision: pb::ReviewDecision::RequestCorrection as i32,
            correction_items: vec![String::new(); 100_000],
            ..Default::default()
        })
        .await
        .expect_err("too many items");

    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["correction_items"]);
    assert!(
        err.message().len() < 500,
        "{} characters",
        err.message().len()
    );
    assert!(err.message().contains("at most 100"), "{}", err.message());
}

async fn a_flood_of_problems_is_answered_with_fifty_and_a_count(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;

    let err = app
        .client(Role::IntakeClerk)
        .submit_application(pb::SubmitApplicationRequest {
            type_code: "loan".into(),
            materials: vec![pb::Material::default(); 200],
            ..Default::default()
        })
        .await
        .expect_err("every material is empty");

    let fields = violated_fields(&err);
    assert_eq!(fields.len(), 51, "{fields:?}");
    assert_eq!(fields[50], "request");
    assert!(
        err.message().len() < 8_000,
        "{} characters",
        err.message().len()
    );
    assert_eq!(ledger_size(&app).await, 0);
}
