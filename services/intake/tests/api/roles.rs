use std::future::Future;
use std::pin::Pin;

use procedo_platform::auth::{DevSigner, Role};
use procedo_platform::config::DEV_JWT_SECRET;
use procedo_proto::intake as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::{Code, Status};

use crate::helpers::{IntakeClient, TestIntake};

backend_tests!(
    every_rpc_admits_exactly_its_roles,
    calls_without_a_valid_token_are_unauthenticated,
);

type Call = Box<dyn Fn(IntakeClient) -> Pin<Box<dyn Future<Output = Result<(), Status>> + Send>>>;

macro_rules! rpc {
    ($method:ident, $request:ty) => {
        Box::new(|mut client: IntakeClient| {
            Box::pin(async move { client.$method(<$request>::default()).await.map(|_| ()) })
                as Pin<Box<dyn Future<Output = Result<(), Status>> + Send>>
        }) as Call
    };
}

/// Every RPC with the roles it admits (admin is admitted everywhere).
fn matrix() -> Vec<(&'static str, Vec<Role>, Call)> {
    use Role::*;
    let inquiries_read = vec![IntakeClerk, DepartmentHead, Auditor];
    let inquiries_handle = vec![IntakeClerk, DepartmentHead];
    let applications_read = vec![IntakeClerk, DepartmentHead, Auditor, Service];
    let ledger_read = vec![IntakeClerk, DepartmentHead, Auditor];
    vec![
        (
            "CreateInquiry",
            vec![IntakeClerk],
            rpc!(create_inquiry, pb::CreateInquiryRequest),
        ),
        (
            "GetInquiry",
            inquiries_read.clone(),
            rpc!(get_inquiry, pb::GetInquiryRequest),
        ),
        (
            "ListInquiries",
            inquiries_read,
            rpc!(list_inquiries, pb::ListInquiriesRequest),
        ),
        (
            "RespondToInquiry",
            inquiries_handle.clone(),
            rpc!(respond_to_inquiry, pb::RespondToInquiryRequest),
        ),
        (
            "AddInquiryNote",
            inquiries_handle.clone(),
            rpc!(add_inquiry_note, pb::AddInquiryNoteRequest),
        ),
        (
            "EscalateInquiry",
            inquiries_handle.clone(),
            rpc!(escalate_inquiry, pb::EscalateInquiryRequest),
        ),
        (
            "ResolveInquiry",
            inquiries_handle,
            rpc!(resolve_inquiry, pb::ResolveInquiryRequest),
        ),
        (
            "CloseInquiry",
            vec![IntakeClerk],
            rpc!(close_inquiry, pb::CloseInquiryRequest),
        ),
        (
            "CreateApplicationType",
            vec![],
            rpc!(create_application_type, pb::CreateApplicationTypeRequest),
        ),
        (
            "UpdateApplicationType",
            vec![],
            rpc!(update_application_type, pb::UpdateApplicationTypeRequest),
        ),
        (
            "GetApplicationType",
            Role::ALL.to_vec(),
            rpc!(get_application_type, pb::GetApplicationTypeRequest),
        ),
        (
            "ListApplicationTypes",
            Role::ALL.to_vec(),
            rpc!(list_application_types, pb::ListApplicationTypesRequest),
        ),
        (
            "SubmitApplication",
            vec![IntakeClerk, Service],
            rpc!(submit_application, pb::SubmitApplicationRequest),
        ),
        (
            "GetApplication",
            applications_read.clone(),
            rpc!(get_application, pb::GetApplicationRequest),
        ),
        (
            "SupplementApplication",
            vec![IntakeClerk, Service],
            rpc!(supplement_application, pb::SupplementApplicationRequest),
        ),
        (
            "ReviewApplication",
            vec![IntakeClerk],
            rpc!(review_application, pb::ReviewApplicationRequest),
        ),
        (
            "WithdrawApplication",
            vec![IntakeClerk, Service],
            rpc!(withdraw_application, pb::WithdrawApplicationRequest),
        ),
        (
            "ListApplicationHistory",
            applications_read,
            rpc!(list_application_history, pb::ListApplicationHistoryRequest),
        ),
        (
            "QueryLedger",
            ledger_read.clone(),
            rpc!(query_ledger, pb::QueryLedgerRequest),
        ),
        (
            "ExportLedger",
            ledger_read.clone(),
            rpc!(export_ledger, pb::ExportLedgerRequest),
        ),
        (
            "ListNotifications",
            ledger_read,
            rpc!(list_notifications, pb::ListNotificationsRequest),
        ),
    ]
}

async fn every_rpc_admits_exactly_its_roles(backend: Backend) {
    let app = TestIntake::spawn(backend).await;
    let mut wrong = Vec::new();
    for (rpc, allowed, call) in matrix() {
        for role in Role::ALL {
            let admitted = role == Role::Admin || allowed.contains(&role);
            let outcome = call(app.client(role)).await;
            let denied = matches!(&outcome, Err(s) if s.code() == Code::PermissionDenied);
            if admitted == denied {
                wrong.push(format!("{rpc} as {role}: {outcome:?}"));
            }
        }
    }
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
        let claims = procedo_platform::auth::Claims {
            sub: "late".into(),
            name: String::new(),
            title: String::new(),
            department: String::new(),
            roles: vec!["admin".into()],
            approval_level: 0,
            clearance: procedo_platform::auth::Clearance::Public,
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
