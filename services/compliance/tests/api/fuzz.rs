//! Every audit log method, and the event sink that feeds it, answers
//! random and mangled bodies with a status the caller can act on, and the
//! service keeps serving with its log intact. `PROCEDO_FUZZ_CASES` sets
//! the cases per method.

use procedo_platform::identity::Role;
use procedo_proto::common;
use procedo_proto::compliance as pb;
use procedo_testkit::Backend;
use procedo_testkit::fuzz::{Target, fuzz};

use crate::helpers::{TestCompliance, audit_event};

fn path(method: &str) -> &'static str {
    Box::leak(format!("/procedo.compliance.v1.AuditLogService/{method}").into_boxed_str())
}

#[test]
fn every_method_answers_random_and_mangled_bodies_with_a_status_the_caller_can_act_on() {
    let runtime = procedo_testkit::fuzz::runtime();
    let app = runtime.block_on(TestCompliance::spawn(Backend::Sqlite));
    runtime.block_on(async {
        for i in 1..=5 {
            app.deliver(audit_event(
                "procedo.intake",
                i,
                "intake.inquiries.create",
                "inquiries/1",
            ))
            .await;
        }
        app.auditor()
            .create_checkpoint(pb::CreateCheckpointRequest::default())
            .await
            .expect("signed");
    });
    let targets = vec![
        Target::new(
            path("ListAuditEntries"),
            &pb::ListAuditEntriesRequest {
                page_size: 10,
                resource: "inquiries/1".into(),
                actor: "person-1".into(),
                action: "intake.inquiries.create".into(),
                source: "procedo.intake".into(),
                trace_id: format!("{:032x}", 1),
                start_time: Some(procedo_platform::time::to_timestamp(1_000)),
                end_time: Some(procedo_platform::time::to_timestamp(2_000_000_000_000)),
                order_by: "seq".into(),
                ..Default::default()
            },
        ),
        Target::new(
            path("GetAuditEntry"),
            &pb::GetAuditEntryRequest {
                name: "auditEntries/3".into(),
            },
        ),
        Target::new(
            path("GetCheckpoint"),
            &pb::GetCheckpointRequest { tree_size: 5 },
        ),
        Target::new(
            path("ListCheckpoints"),
            &pb::ListCheckpointsRequest {
                page_size: 2,
                ..Default::default()
            },
        ),
        Target::new(
            path("GetInclusionProof"),
            &pb::GetInclusionProofRequest {
                entry: "auditEntries/2".into(),
                tree_size: 5,
            },
        ),
        Target::new(
            path("GetConsistencyProof"),
            &pb::GetConsistencyProofRequest {
                first_tree_size: 5,
                second_tree_size: 0,
            },
        ),
        Target::new(
            path("CreateCheckpoint"),
            &pb::CreateCheckpointRequest {
                request_id: "a-request".into(),
            },
        ),
        Target::new(path("VerifyAuditLog"), &pb::VerifyAuditLogRequest {}),
        Target::new(path("ListLogKeys"), &pb::ListLogKeysRequest {}),
        Target::new(
            "/procedo.common.v1.EventSinkService/DeliverBatch",
            &common::DeliverBatchRequest {
                events: vec![audit_event(
                    "procedo.workflow",
                    1,
                    "workflow.tasks.complete",
                    "tasks/1",
                )],
            },
        ),
    ];
    // The sink takes only services' tokens; the log's reads, auditors'.
    fuzz(
        &runtime,
        &app.server.channel,
        &app.tokens.token(Role::Service),
        &targets[9..],
    );
    fuzz(
        &runtime,
        &app.server.channel,
        &app.tokens.token(Role::Admin),
        &targets[..9],
    );

    let verified = runtime.block_on(async {
        app.auditor()
            .verify_audit_log(pb::VerifyAuditLogRequest {})
            .await
            .expect("the service still serves")
            .into_inner()
    });
    assert!(verified.verified, "the log is intact: {verified:?}");
}

/// The rest of the compliance service answers mangled bodies the same way; the
/// inspection they aim at still reads, and another stays as it was (a
/// mangled body may legitimately change its target: an etag dropped is an
/// unconditional change).
#[test]
fn inspection_rectification_and_filing_methods_answer_mangled_bodies_and_keep_what_is_stored() {
    use crate::inspections::{END, START, inspection, ts};

    let runtime = procedo_testkit::fuzz::runtime();
    let app = runtime.block_on(TestCompliance::spawn(Backend::Sqlite));
    let before = runtime.block_on(inspection(&app));
    let target = runtime.block_on(inspection(&app));
    let at = |service: &str, method: &str| -> &'static str {
        Box::leak(format!("/procedo.compliance.v1.{service}/{method}").into_boxed_str())
    };
    let targets = vec![
        Target::new(
            at("InspectionService", "CreateInspection"),
            &pb::CreateInspectionRequest {
                title: "t".into(),
                scope: 1,
                department: "sales".into(),
                start_time: ts(START),
                end_time: ts(END),
                checklist: vec![pb::ChecklistItemSpec {
                    criterion: "c".into(),
                    clause: "§1.2".into(),
                }],
                ..Default::default()
            },
        ),
        Target::new(
            at("InspectionService", "MarkChecklistItem"),
            &pb::MarkChecklistItemRequest {
                inspection: target.name.clone(),
                etag: "\"7\"".into(),
                item: "1".into(),
                result: 2,
                ..Default::default()
            },
        ),
        Target::new(
            at("InspectionService", "RecordFinding"),
            &pb::RecordFindingRequest {
                inspection: target.name.clone(),
                etag: "\"7\"".into(),
                severity: 1,
                clause: "§3.4".into(),
                resources: vec!["tasks/1".into()],
                description: "d".into(),
                ..Default::default()
            },
        ),
        Target::new(
            at("InspectionService", "DrawSamples"),
            &pb::DrawSamplesRequest {
                inspection: target.name.clone(),
                etag: target.etag.clone(),
                sizes: vec![pb::SampleSize {
                    source: 1,
                    count: 2,
                }],
                ..Default::default()
            },
        ),
        Target::new(
            at("InspectionService", "ListFindings"),
            &pb::ListFindingsRequest {
                page_size: 5,
                department: "sales".into(),
                status: 1,
                ..Default::default()
            },
        ),
        Target::new(
            at("RectificationService", "IssueNotice"),
            &pb::IssueNoticeRequest {
                findings: vec!["findings/0193a0c0-0000-7000-8000-000000000001".into()],
                department: "sales".into(),
                department_head: "hank".into(),
                requirements: "r".into(),
                due_time: ts(END),
                ..Default::default()
            },
        ),
        Target::new(
            at("FilingService", "CreateObligation"),
            &pb::CreateObligationRequest {
                regulator: "Tax bureau".into(),
                subject: "VAT".into(),
                recurrence: 2,
                responsible: "rita".into(),
                lead_time: Some(prost_types::Duration {
                    seconds: 86_400,
                    nanos: 0,
                }),
                due_after: Some(prost_types::Duration {
                    seconds: 86_400,
                    nanos: 0,
                }),
                first_period_time: ts(START),
                ..Default::default()
            },
        ),
        Target::new(
            at("FilingService", "ListFilings"),
            &pb::ListFilingsRequest {
                page_size: 3,
                upcoming_only: true,
                ..Default::default()
            },
        ),
        Target::new(
            at("FilingService", "SubmitFiling"),
            &pb::SubmitFilingRequest {
                name: "filings/0193a0c0-0000-7000-8000-000000000001".into(),
                documents: vec!["documents/0193a0c0-0000-7000-8000-000000000001".into()],
                regulator_reference: "R-1".into(),
                ..Default::default()
            },
        ),
        Target::new(
            at("AssessmentService", "CreateScheme"),
            &pb::CreateSchemeRequest {
                title: "t".into(),
                cycle: 1,
                indicators: vec![pb::IndicatorSpec {
                    code: "on_time".into(),
                    name: "On time".into(),
                    group: 1,
                    weight: 1.0,
                    target: 0.9,
                    direction: 1,
                    metric: 1,
                    manual: false,
                }],
                ..Default::default()
            },
        ),
        Target::new(
            at("AssessmentService", "SetManualScore"),
            &pb::SetManualScoreRequest {
                period: "assessmentPeriods/0193a0c0-0000-7000-8000-000000000001".into(),
                indicator: "conduct".into(),
                subject_kind: 1,
                subject: "sales".into(),
                score: 50.0,
                justification: "j".into(),
                ..Default::default()
            },
        ),
        Target::new(
            at("DirectoryService", "ImportDirectory"),
            &pb::ImportDirectoryRequest {
                people: vec![pb::ImportedPerson {
                    subject: "sam".into(),
                    department: "sales".into(),
                    roles: vec!["executor".into()],
                    active: true,
                    ..Default::default()
                }],
                ..Default::default()
            },
        ),
        Target::new(
            at("TrainingService", "CreateQuestionBank"),
            &pb::CreateQuestionBankRequest {
                title: "b".into(),
                questions: vec![pb::Question {
                    kind: 2,
                    text: "q".into(),
                    options: vec!["a".into(), "b".into(), "c".into()],
                    correct: vec![0, 2],
                }],
                ..Default::default()
            },
        ),
        Target::new(
            at("TrainingService", "TakeExam"),
            &pb::TakeExamRequest {
                session: "trainingSessions/0193a0c0-0000-7000-8000-000000000001".into(),
                answers: vec![pb::Answer { chosen: vec![0, 1] }],
                ..Default::default()
            },
        ),
        Target::new(
            at("PolicyService", "AcknowledgePolicy"),
            &pb::AcknowledgePolicyRequest {
                publication: "policyPublications/0193a0c0-0000-7000-8000-000000000001".into(),
                answers: vec![pb::Answer { chosen: vec![0] }],
                ..Default::default()
            },
        ),
        Target::new(
            at("RectificationService", "ReopenRectification"),
            &pb::ReopenRectificationRequest {
                notice: "rectificationNotices/0193a0c0-0000-7000-8000-000000000001".into(),
                etag: "\"1\"".into(),
                reason: "r".into(),
                time_limit: Some(common::TimeLimit {
                    kind: Some(common::time_limit::Kind::WorkingDays(3)),
                }),
                ..Default::default()
            },
        ),
    ];
    fuzz(
        &runtime,
        &app.server.channel,
        &app.tokens.token(Role::Admin),
        &targets,
    );
    let after = runtime.block_on(async {
        crate::inspections::auditor(&app)
            .get_inspection(pb::GetInspectionRequest {
                name: before.name.clone(),
            })
            .await
            .expect("the service still serves")
            .into_inner()
    });
    assert_eq!(after, before, "the other inspection is unchanged");
    runtime.block_on(async {
        crate::inspections::auditor(&app)
            .get_inspection(pb::GetInspectionRequest { name: target.name })
            .await
            .expect("the target still reads");
    });
}
