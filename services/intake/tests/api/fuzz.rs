//! Every mutation (and the reads that take filters) answers random and
//! mangled bodies with a status the caller can act on, and intake keeps
//! serving. `PROCEDO_FUZZ_CASES` sets the cases per method.

use procedo_platform::identity::Role;
use procedo_proto::calendar as cal;
use procedo_proto::common;
use procedo_proto::events;
use procedo_proto::intake as pb;
use procedo_testkit::Backend;
use procedo_testkit::fuzz::{Target, fuzz};
use prost::Message as _;

use crate::helpers::{TestIntake, inquiry, material, submission};

const SERVICE: &str = "/procedo.intake.v1.IntakeService/";

fn path(method: &str) -> &'static str {
    Box::leak(format!("{SERVICE}{method}").into_boxed_str())
}

#[test]
fn every_method_answers_random_and_mangled_bodies_with_a_status_the_caller_can_act_on() {
    let runtime = procedo_testkit::fuzz::runtime();
    let app = runtime.block_on(TestIntake::spawn(Backend::Sqlite));
    let (open_inquiry, application) = runtime.block_on(async {
        app.create_type("loan", &[("ID card", true)]).await;
        let inquiry = app
            .client(Role::IntakeClerk)
            .create_inquiry(inquiry(pb::Channel::Email))
            .await
            .expect("an inquiry")
            .into_inner();
        let application = app.submit(submission("loan", "Wang Fang", &[])).await;
        (inquiry.name, application.name)
    });
    let targets = vec![
        Target::new(path("CreateInquiry"), &inquiry(pb::Channel::Phone)),
        Target::new(
            path("RespondToInquiry"),
            &pb::RespondToInquiryRequest {
                name: open_inquiry.clone(),
                answer: "We will call back".into(),
                ..Default::default()
            },
        ),
        Target::new(
            path("AddInquiryNote"),
            &pb::AddInquiryNoteRequest {
                name: open_inquiry.clone(),
                note: "Called".into(),
                for_customer: true,
                ..Default::default()
            },
        ),
        Target::new(
            path("PauseInquiry"),
            &pb::PauseInquiryRequest {
                name: open_inquiry.clone(),
                reason: "waiting for the customer".into(),
                ..Default::default()
            },
        ),
        Target::new(
            path("ResumeInquiry"),
            &pb::ResumeInquiryRequest {
                name: open_inquiry.clone(),
                ..Default::default()
            },
        ),
        Target::new(
            path("EscalateInquiry"),
            &pb::EscalateInquiryRequest {
                name: open_inquiry.clone(),
                department: "legal".into(),
                reason: "complex".into(),
                ..Default::default()
            },
        ),
        Target::new(
            path("ResolveInquiry"),
            &pb::ResolveInquiryRequest {
                name: open_inquiry.clone(),
                resolution: "done".into(),
                ..Default::default()
            },
        ),
        Target::new(
            path("CloseInquiry"),
            &pb::CloseInquiryRequest {
                name: open_inquiry.clone(),
                satisfaction: 5,
                ..Default::default()
            },
        ),
        Target::new(
            path("CreateApplicationType"),
            &pb::CreateApplicationTypeRequest {
                request_id: String::new(),
                application_type: Some(crate::helpers::application_type("car", &[("ID", true)])),
            },
        ),
        Target::new(
            path("UpdateApplicationType"),
            &pb::UpdateApplicationTypeRequest {
                request_id: String::new(),
                application_type: Some(crate::helpers::application_type("loan", &[])),
            },
        ),
        Target::new(
            path("SubmitApplication"),
            &submission("loan", "Li Lei", &["ID card"]),
        ),
        Target::new(
            path("SupplementApplication"),
            &pb::SupplementApplicationRequest {
                name: application.clone(),
                materials: vec![material("ID card")],
                ..Default::default()
            },
        ),
        Target::new(
            path("ReviewApplication"),
            &pb::ReviewApplicationRequest {
                name: application.clone(),
                decision: pb::ReviewDecision::RequestCorrection as i32,
                correction_items: vec!["the date".into()],
                ..Default::default()
            },
        ),
        Target::new(
            path("WithdrawApplication"),
            &pb::WithdrawApplicationRequest {
                name: application.clone(),
                ..Default::default()
            },
        ),
        Target::new(
            path("ListApplicationHistory"),
            &pb::ListApplicationHistoryRequest {
                name: application.clone(),
                ..Default::default()
            },
        ),
        Target::new(
            path("QueryLedger"),
            &pb::QueryLedgerRequest {
                filter: Some(pb::LedgerFilter {
                    applicant: "wang".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
        Target::new(path("ListInquiries"), &pb::ListInquiriesRequest::default()),
        Target::new(
            path("ListInquiryEntries"),
            &pb::ListInquiryEntriesRequest {
                name: open_inquiry,
                ..Default::default()
            },
        ),
        Target::new(
            path("ListNotifications"),
            &pb::ListNotificationsRequest {
                resource: application,
                ..Default::default()
            },
        ),
        Target::new(
            "/procedo.common.v1.EventSinkService/Deliver",
            &common::DeliverRequest {
                event: Some(common::Event {
                    id: "e-1".into(),
                    source: "procedo.workflow".into(),
                    r#type: "procedo.workflow.v1.instance.stage_reached".into(),
                    ..Default::default()
                }),
            },
        ),
        // A calendar version from the keeper: intake stores it and moves
        // its clocks.
        Target::new(
            "/procedo.common.v1.EventSinkService/Deliver",
            &common::DeliverRequest {
                event: Some(common::Event {
                    id: "e-2".into(),
                    source: "procedo.workflow".into(),
                    r#type: events::calendar::CHANGED.into(),
                    data: Some(prost_types::Any {
                        type_url: format!("type.googleapis.com/{}", events::calendar::CALENDAR),
                        value: cal::Calendar {
                            id: "default".into(),
                            title: "Default".into(),
                            time_zone: "UTC".into(),
                            hours: vec![cal::WorkingHours {
                                weekday: cal::Weekday::Monday as i32,
                                periods: vec![cal::Period {
                                    start: "09:00".into(),
                                    end: "17:00".into(),
                                }],
                            }],
                            holidays: vec![cal::Holiday {
                                name: "Day off".into(),
                                start_date: "2026-12-24".into(),
                                end_date: String::new(),
                            }],
                            company_default: true,
                            version: 2,
                            ..Default::default()
                        }
                        .encode_to_vec(),
                    }),
                    ..Default::default()
                }),
            },
        ),
    ];

    fuzz(
        &runtime,
        &app.server.channel,
        &app.tokens.token(Role::Admin),
        &targets,
    );

    let still = runtime.block_on(
        app.client(Role::Auditor)
            .list_inquiries(pb::ListInquiriesRequest::default()),
    );
    assert!(still.is_ok(), "intake still serves: {still:?}");
}
