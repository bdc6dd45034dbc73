use procedo_platform::auth::DevSigner;
use procedo_platform::config::DEV_JWT_SECRET;
use procedo_platform::identity::Role;
use procedo_proto::intake as pb;
use procedo_testkit::{Backend, Call, backend_tests, role_matrix_violations, rpc};
use tonic::Code;

use crate::helpers::{IntakeClient, TestIntake};

backend_tests!(
    every_rpc_admits_exactly_its_roles,
    calls_without_a_valid_token_are_unauthenticated,
    a_caller_holding_no_known_role_may_read_what_is_open_to_all_and_nothing_else,
);

/// Every RPC with the roles it admits (admin is admitted everywhere).
fn matrix() -> Vec<(&'static str, Vec<Role>, Call<IntakeClient>)> {
    use Role::*;
    let inquiries_read = vec![IntakeClerk, DepartmentHead, Auditor];
    let inquiries_handle = vec![IntakeClerk, DepartmentHead];
    let applications_read = vec![IntakeClerk, DepartmentHead, Auditor, Service];
    let ledger_read = vec![IntakeClerk, DepartmentHead, Auditor];
    vec![
        (
            "CreateInquiry",
            vec![IntakeClerk],
            rpc!(IntakeClient, create_inquiry, pb::CreateInquiryRequest),
        ),
        (
            "GetInquiry",
            inquiries_read.clone(),
            rpc!(IntakeClient, get_inquiry, pb::GetInquiryRequest),
        ),
        (
            "ListInquiries",
            inquiries_read,
            rpc!(IntakeClient, list_inquiries, pb::ListInquiriesRequest),
        ),
        (
            "ListInquiryEntries",
            vec![IntakeClerk, DepartmentHead, Auditor],
            rpc!(
                IntakeClient,
                list_inquiry_entries,
                pb::ListInquiryEntriesRequest
            ),
        ),
        (
            "RespondToInquiry",
            inquiries_handle.clone(),
            rpc!(
                IntakeClient,
                respond_to_inquiry,
                pb::RespondToInquiryRequest
            ),
        ),
        (
            "AddInquiryNote",
            inquiries_handle.clone(),
            rpc!(IntakeClient, add_inquiry_note, pb::AddInquiryNoteRequest),
        ),
        (
            "PauseInquiry",
            inquiries_handle.clone(),
            rpc!(IntakeClient, pause_inquiry, pb::PauseInquiryRequest),
        ),
        (
            "ResumeInquiry",
            inquiries_handle.clone(),
            rpc!(IntakeClient, resume_inquiry, pb::ResumeInquiryRequest),
        ),
        (
            "EscalateInquiry",
            inquiries_handle.clone(),
            rpc!(IntakeClient, escalate_inquiry, pb::EscalateInquiryRequest),
        ),
        (
            "ResolveInquiry",
            inquiries_handle,
            rpc!(IntakeClient, resolve_inquiry, pb::ResolveInquiryRequest),
        ),
        (
            "CloseInquiry",
            vec![IntakeClerk],
            rpc!(IntakeClient, close_inquiry, pb::CloseInquiryRequest),
        ),
        (
            "CreateApplicationType",
            vec![],
            rpc!(
                IntakeClient,
                create_application_type,
                pb::CreateApplicationTypeRequest
            ),
        ),
        (
            "UpdateApplicationType",
            vec![],
            rpc!(
                IntakeClient,
                update_application_type,
                pb::UpdateApplicationTypeRequest
            ),
        ),
        (
            "GetApplicationType",
            Role::ALL.to_vec(),
            rpc!(
                IntakeClient,
                get_application_type,
                pb::GetApplicationTypeRequest
            ),
        ),
        (
            "ListApplicationTypes",
            Role::ALL.to_vec(),
            rpc!(
                IntakeClient,
                list_application_types,
                pb::ListApplicationTypesRequest
            ),
        ),
        (
            "SubmitApplication",
            vec![IntakeClerk, Service],
            rpc!(
                IntakeClient,
                submit_application,
                pb::SubmitApplicationRequest
            ),
        ),
        (
            "GetApplication",
            applications_read.clone(),
            rpc!(IntakeClient, get_application, pb::GetApplicationRequest),
        ),
        (
            "SupplementApplication",
            vec![IntakeClerk, Service],
            rpc!(
                IntakeClient,
                supplement_application,
                pb::SupplementApplicationRequest
            ),
        ),
        (
            "ReviewApplication",
            vec![IntakeClerk],
            rpc!(
                IntakeClient,
                review_application,
                pb::ReviewApplicationRequest
            ),
        ),
        (
            "WithdrawApplication",
            vec![IntakeClerk, Service],
            rpc!(
                IntakeClient,
                withdraw_application,
                pb::WithdrawApplicationRequest
            ),
        ),
        (
            "ListApplicationHistory",
            applications_read,
            rpc!(
                IntakeClient,
                list_application_history,
                pb::ListApplicationHistoryRequest
            ),
        ),
        (
            "QueryLedger",
            ledger_read.clone(),
            rpc!(IntakeClient, query_ledger, pb::QueryLedgerRequest),
        ),
        (
            "ExportLedger",
            ledger_read.clone(),
            rpc!(IntakeClient, export_ledger, pb::ExportLedgerRequest),
        ),
        (
            "ListNotifications",
            ledger_read,
            rpc!(
                IntakeClient,
                list_notifications,
                pb::ListNotificationsRequest
            ),
        ),
    ]
}

async fn every_rpc_admits_exactly_its_roles(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    let wrong = role_matrix_violations(matrix(), |role| app.client(role)).await;
    assert!(
        wrong.is_empty(),
        "role matrix violated:\n{}",
        wrong.join("\n")
    );
}

async fn calls_without_a_valid_token_are_unauthenticated(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    let forged =
        DevSigner::new(b"not-the-server-secret-at-all").token("mallory", "ops", &[Role::Admin], 60);
    let expired = {
        let signer = DevSigner::new(DEV_JWT_SECRET.as_bytes());
        let claims = procedo_platform::identity::Claims {
            sub: "late".into(),
            name: String::new(),
            title: String::new(),
            department: String::new(),
            roles: vec!["admin".into()],
            approval_level: 0,
            clearance: procedo_platform::identity::Clearance::Public,
            exp: 1_000,
            iat: 0,
            iss: None,
            aud: None,
        };
        signer.sign(&claims).expect("signed")
    };

    for (token, why) in [
        (None, "missing"),
        (Some("not-a-jwt".to_owned()), "malformed"),
        (Some(forged), "forged"),
        (Some(expired), "expired"),
    ] {
        let err = app
            .client_with(token)
            .list_inquiries(pb::ListInquiriesRequest::default())
            .await
            .expect_err(why);
        assert_eq!(err.code(), Code::Unauthenticated, "{why}: {err:?}");
    }
}

async fn a_caller_holding_no_known_role_may_read_what_is_open_to_all_and_nothing_else(
    backend: Backend,
) {
    let app = TestIntake::spawn(backend).await;
    app.create_type("loan", &[]).await;
    let mut nobody = app.client_with(Some(app.tokens.token_for("visitor", "ops", &[])));

    let catalogue = nobody
        .list_application_types(pb::ListApplicationTypesRequest::default())
        .await
        .expect("the catalogue is open to every authenticated caller")
        .into_inner();
    let submit = nobody
        .submit_application(pb::SubmitApplicationRequest::default())
        .await
        .expect_err("submitting needs a role");

    assert_eq!(catalogue.application_types.len(), 1);
    assert_eq!(submit.code(), Code::PermissionDenied);
}
