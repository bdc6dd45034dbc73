//! Roles decide which RPCs a caller may use (admin passes every check).

use procedo_platform::identity::Role;
use procedo_proto::compliance as pb;
use procedo_testkit::{Backend, Call, backend_tests, role_matrix_violations, rpc};

use crate::helpers::{
    AssessmentClient, AuditClient, DirectoryClient, FilingClient, InspectionClient, PolicyClient,
    RectificationClient, TestCompliance, TrainingClient,
};

backend_tests!(
    every_audit_rpc_admits_exactly_its_roles,
    every_inspection_rpc_admits_exactly_its_roles,
    every_rectification_rpc_admits_exactly_its_roles,
    every_filing_rpc_admits_exactly_its_roles,
    every_assessment_rpc_admits_exactly_its_roles,
    every_directory_rpc_admits_exactly_its_roles,
    every_training_and_policy_rpc_admits_exactly_its_roles,
);

fn matrix() -> Vec<(&'static str, Vec<Role>, Call<AuditClient>)> {
    let auditors = vec![Role::Auditor];
    vec![
        (
            "ListAuditEntries",
            auditors.clone(),
            rpc!(AuditClient, list_audit_entries, pb::ListAuditEntriesRequest),
        ),
        (
            "GetAuditEntry",
            auditors.clone(),
            rpc!(AuditClient, get_audit_entry, pb::GetAuditEntryRequest),
        ),
        (
            "GetCheckpoint",
            auditors.clone(),
            rpc!(AuditClient, get_checkpoint, pb::GetCheckpointRequest),
        ),
        (
            "ListCheckpoints",
            auditors.clone(),
            rpc!(AuditClient, list_checkpoints, pb::ListCheckpointsRequest),
        ),
        (
            "CreateCheckpoint",
            auditors.clone(),
            rpc!(AuditClient, create_checkpoint, pb::CreateCheckpointRequest),
        ),
        (
            "GetInclusionProof",
            auditors.clone(),
            rpc!(
                AuditClient,
                get_inclusion_proof,
                pb::GetInclusionProofRequest
            ),
        ),
        (
            "GetConsistencyProof",
            auditors.clone(),
            rpc!(
                AuditClient,
                get_consistency_proof,
                pb::GetConsistencyProofRequest
            ),
        ),
        (
            "VerifyAuditLog",
            auditors,
            rpc!(AuditClient, verify_audit_log, pb::VerifyAuditLogRequest),
        ),
        (
            "ListLogKeys",
            Role::ALL.to_vec(),
            rpc!(AuditClient, list_log_keys, pb::ListLogKeysRequest),
        ),
    ]
}

async fn every_audit_rpc_admits_exactly_its_roles(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    let wrong = role_matrix_violations(matrix(), |role| app.client(role)).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn inspection_matrix() -> Vec<(&'static str, Vec<Role>, Call<InspectionClient>)> {
    let auditors = vec![Role::Auditor];
    let readers = vec![Role::Auditor, Role::DepartmentHead];
    vec![
        (
            "CreateChecklistTemplate",
            auditors.clone(),
            rpc!(
                InspectionClient,
                create_checklist_template,
                pb::CreateChecklistTemplateRequest
            ),
        ),
        (
            "GetChecklistTemplate",
            auditors.clone(),
            rpc!(
                InspectionClient,
                get_checklist_template,
                pb::GetChecklistTemplateRequest
            ),
        ),
        (
            "ListChecklistTemplates",
            auditors.clone(),
            rpc!(
                InspectionClient,
                list_checklist_templates,
                pb::ListChecklistTemplatesRequest
            ),
        ),
        (
            "CreateInspectionPlan",
            auditors.clone(),
            rpc!(
                InspectionClient,
                create_inspection_plan,
                pb::CreateInspectionPlanRequest
            ),
        ),
        (
            "GetInspectionPlan",
            auditors.clone(),
            rpc!(
                InspectionClient,
                get_inspection_plan,
                pb::GetInspectionPlanRequest
            ),
        ),
        (
            "ListInspectionPlans",
            auditors.clone(),
            rpc!(
                InspectionClient,
                list_inspection_plans,
                pb::ListInspectionPlansRequest
            ),
        ),
        (
            "CreateInspection",
            auditors.clone(),
            rpc!(
                InspectionClient,
                create_inspection,
                pb::CreateInspectionRequest
            ),
        ),
        (
            "GetInspection",
            readers.clone(),
            rpc!(InspectionClient, get_inspection, pb::GetInspectionRequest),
        ),
        (
            "ListInspections",
            readers.clone(),
            rpc!(
                InspectionClient,
                list_inspections,
                pb::ListInspectionsRequest
            ),
        ),
        (
            "DrawSamples",
            auditors.clone(),
            rpc!(InspectionClient, draw_samples, pb::DrawSamplesRequest),
        ),
        (
            "RunChecks",
            auditors.clone(),
            rpc!(InspectionClient, run_checks, pb::RunChecksRequest),
        ),
        (
            "MarkChecklistItem",
            auditors.clone(),
            rpc!(
                InspectionClient,
                mark_checklist_item,
                pb::MarkChecklistItemRequest
            ),
        ),
        (
            "RecordFinding",
            auditors.clone(),
            rpc!(InspectionClient, record_finding, pb::RecordFindingRequest),
        ),
        (
            "DismissCandidate",
            auditors.clone(),
            rpc!(
                InspectionClient,
                dismiss_candidate,
                pb::DismissCandidateRequest
            ),
        ),
        (
            "CompleteInspection",
            auditors,
            rpc!(
                InspectionClient,
                complete_inspection,
                pb::CompleteInspectionRequest
            ),
        ),
        (
            "GetFinding",
            readers.clone(),
            rpc!(InspectionClient, get_finding, pb::GetFindingRequest),
        ),
        (
            "ListFindings",
            readers,
            rpc!(InspectionClient, list_findings, pb::ListFindingsRequest),
        ),
    ]
}

async fn every_inspection_rpc_admits_exactly_its_roles(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    let wrong = role_matrix_violations(inspection_matrix(), |role| {
        app.inspections(app.tokens.token(role))
    })
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The department's steps admit anyone authenticated: the notice itself
/// decides who answers it (its department's heads and named head).
fn rectification_matrix() -> Vec<(&'static str, Vec<Role>, Call<RectificationClient>)> {
    let auditors = vec![Role::Auditor];
    let everyone = Role::ALL.to_vec();
    vec![
        (
            "IssueNotice",
            auditors.clone(),
            rpc!(RectificationClient, issue_notice, pb::IssueNoticeRequest),
        ),
        (
            "GetNotice",
            everyone.clone(),
            rpc!(RectificationClient, get_notice, pb::GetNoticeRequest),
        ),
        (
            "ListNotices",
            vec![Role::Auditor, Role::DepartmentHead],
            rpc!(RectificationClient, list_notices, pb::ListNoticesRequest),
        ),
        (
            "AcknowledgeNotice",
            everyone.clone(),
            rpc!(
                RectificationClient,
                acknowledge_notice,
                pb::AcknowledgeNoticeRequest
            ),
        ),
        (
            "StartRectification",
            everyone.clone(),
            rpc!(
                RectificationClient,
                start_rectification,
                pb::StartRectificationRequest
            ),
        ),
        (
            "SubmitRectification",
            everyone,
            rpc!(
                RectificationClient,
                submit_rectification,
                pb::SubmitRectificationRequest
            ),
        ),
        (
            "VerifyRectification",
            auditors.clone(),
            rpc!(
                RectificationClient,
                verify_rectification,
                pb::VerifyRectificationRequest
            ),
        ),
        (
            "ReopenRectification",
            auditors,
            rpc!(
                RectificationClient,
                reopen_rectification,
                pb::ReopenRectificationRequest
            ),
        ),
    ]
}

async fn every_rectification_rpc_admits_exactly_its_roles(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    let wrong = role_matrix_violations(rectification_matrix(), |role| {
        app.rectification(app.tokens.token(role))
    })
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Filings are read and submitted by whoever they name (the filing itself
/// decides); obligations are configured by admins only.
fn filing_matrix() -> Vec<(&'static str, Vec<Role>, Call<FilingClient>)> {
    let everyone = Role::ALL.to_vec();
    vec![
        (
            "CreateObligation",
            vec![],
            rpc!(FilingClient, create_obligation, pb::CreateObligationRequest),
        ),
        (
            "GetObligation",
            vec![Role::Auditor],
            rpc!(FilingClient, get_obligation, pb::GetObligationRequest),
        ),
        (
            "ListObligations",
            vec![Role::Auditor],
            rpc!(FilingClient, list_obligations, pb::ListObligationsRequest),
        ),
        (
            "RetireObligation",
            vec![],
            rpc!(FilingClient, retire_obligation, pb::RetireObligationRequest),
        ),
        (
            "GetFiling",
            everyone.clone(),
            rpc!(FilingClient, get_filing, pb::GetFilingRequest),
        ),
        (
            "ListFilings",
            everyone.clone(),
            rpc!(FilingClient, list_filings, pb::ListFilingsRequest),
        ),
        (
            "SubmitFiling",
            everyone,
            rpc!(FilingClient, submit_filing, pb::SubmitFilingRequest),
        ),
    ]
}

async fn every_filing_rpc_admits_exactly_its_roles(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    let wrong =
        role_matrix_violations(filing_matrix(), |role| app.filings(app.tokens.token(role))).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn assessment_matrix() -> Vec<(&'static str, Vec<Role>, Call<AssessmentClient>)> {
    let admins = vec![Role::Admin];
    let assessors = vec![Role::Auditor];
    let readers = vec![Role::Auditor, Role::DepartmentHead];
    vec![
        (
            "CreateScheme",
            admins.clone(),
            rpc!(AssessmentClient, create_scheme, pb::CreateSchemeRequest),
        ),
        (
            "GetScheme",
            readers.clone(),
            rpc!(AssessmentClient, get_scheme, pb::GetSchemeRequest),
        ),
        (
            "ListSchemes",
            readers.clone(),
            rpc!(AssessmentClient, list_schemes, pb::ListSchemesRequest),
        ),
        (
            "ComputePeriod",
            assessors.clone(),
            rpc!(AssessmentClient, compute_period, pb::ComputePeriodRequest),
        ),
        (
            "GetPeriod",
            readers.clone(),
            rpc!(AssessmentClient, get_period, pb::GetPeriodRequest),
        ),
        (
            "ListPeriods",
            readers.clone(),
            rpc!(AssessmentClient, list_periods, pb::ListPeriodsRequest),
        ),
        (
            "PublishPeriod",
            assessors.clone(),
            rpc!(AssessmentClient, publish_period, pb::PublishPeriodRequest),
        ),
        (
            "SetManualScore",
            assessors,
            rpc!(
                AssessmentClient,
                set_manual_score,
                pb::SetManualScoreRequest
            ),
        ),
        (
            "ListScores",
            readers.clone(),
            rpc!(AssessmentClient, list_scores, pb::ListScoresRequest),
        ),
        (
            "ListScoreFacts",
            readers.clone(),
            rpc!(
                AssessmentClient,
                list_score_facts,
                pb::ListScoreFactsRequest
            ),
        ),
        (
            "ProposeRecord",
            readers,
            rpc!(AssessmentClient, propose_record, pb::ProposeRecordRequest),
        ),
        (
            "DecideRecord",
            admins,
            rpc!(AssessmentClient, decide_record, pb::DecideRecordRequest),
        ),
        (
            "ListRecords",
            Role::ALL.to_vec(),
            rpc!(AssessmentClient, list_records, pb::ListRecordsRequest),
        ),
    ]
}

async fn every_assessment_rpc_admits_exactly_its_roles(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    let wrong = role_matrix_violations(assessment_matrix(), |role| {
        app.assessment(app.tokens.token(role))
    })
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn directory_matrix() -> Vec<(&'static str, Vec<Role>, Call<DirectoryClient>)> {
    let everyone = Role::ALL.to_vec();
    vec![
        (
            "ImportDirectory",
            vec![Role::Admin],
            rpc!(
                DirectoryClient,
                import_directory,
                pb::ImportDirectoryRequest
            ),
        ),
        (
            "ListPeople",
            everyone.clone(),
            rpc!(DirectoryClient, list_people, pb::ListPeopleRequest),
        ),
        (
            "GetPerson",
            everyone.clone(),
            rpc!(DirectoryClient, get_person, pb::GetPersonRequest),
        ),
        (
            "ListDepartments",
            everyone.clone(),
            rpc!(
                DirectoryClient,
                list_departments,
                pb::ListDepartmentsRequest
            ),
        ),
        (
            "GetDepartment",
            everyone,
            rpc!(DirectoryClient, get_department, pb::GetDepartmentRequest),
        ),
    ]
}

async fn every_directory_rpc_admits_exactly_its_roles(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    let wrong = role_matrix_violations(directory_matrix(), |role| {
        app.directory(app.tokens.token(role))
    })
    .await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Taking exams, questionnaires and acknowledgements admit anyone: the
/// session or publication itself decides who is enrolled or addressed.
fn training_matrix() -> Vec<(&'static str, Vec<Role>, Call<TrainingClient>)> {
    let trainers = vec![Role::Trainer];
    let everyone = Role::ALL.to_vec();
    vec![
        (
            "CreateTrainingPlan",
            trainers.clone(),
            rpc!(
                TrainingClient,
                create_training_plan,
                pb::CreateTrainingPlanRequest
            ),
        ),
        (
            "GetTrainingPlan",
            everyone.clone(),
            rpc!(
                TrainingClient,
                get_training_plan,
                pb::GetTrainingPlanRequest
            ),
        ),
        (
            "ListTrainingPlans",
            everyone.clone(),
            rpc!(
                TrainingClient,
                list_training_plans,
                pb::ListTrainingPlansRequest
            ),
        ),
        (
            "CreateQuestionBank",
            trainers.clone(),
            rpc!(
                TrainingClient,
                create_question_bank,
                pb::CreateQuestionBankRequest
            ),
        ),
        (
            "GetQuestionBank",
            trainers.clone(),
            rpc!(
                TrainingClient,
                get_question_bank,
                pb::GetQuestionBankRequest
            ),
        ),
        (
            "ScheduleSession",
            trainers.clone(),
            rpc!(TrainingClient, schedule_session, pb::ScheduleSessionRequest),
        ),
        (
            "GetSession",
            everyone.clone(),
            rpc!(TrainingClient, get_session, pb::GetSessionRequest),
        ),
        (
            "ListSessions",
            everyone.clone(),
            rpc!(TrainingClient, list_sessions, pb::ListSessionsRequest),
        ),
        (
            "ListEnrolment",
            vec![Role::Trainer, Role::Auditor, Role::DepartmentHead],
            rpc!(TrainingClient, list_enrolment, pb::ListEnrolmentRequest),
        ),
        (
            "RecordAttendance",
            trainers.clone(),
            rpc!(
                TrainingClient,
                record_attendance,
                pb::RecordAttendanceRequest
            ),
        ),
        (
            "TakeExam",
            everyone.clone(),
            rpc!(TrainingClient, take_exam, pb::TakeExamRequest),
        ),
        (
            "ScorePractical",
            trainers,
            rpc!(TrainingClient, score_practical, pb::ScorePracticalRequest),
        ),
        (
            "SubmitQuestionnaire",
            everyone.clone(),
            rpc!(
                TrainingClient,
                submit_questionnaire,
                pb::SubmitQuestionnaireRequest
            ),
        ),
        (
            "GetTrainingRecord",
            everyone,
            rpc!(
                TrainingClient,
                get_training_record,
                pb::GetTrainingRecordRequest
            ),
        ),
        (
            "GetItemEffectiveness",
            vec![Role::Trainer, Role::Auditor],
            rpc!(
                TrainingClient,
                get_item_effectiveness,
                pb::GetItemEffectivenessRequest
            ),
        ),
    ]
}

fn policy_matrix() -> Vec<(&'static str, Vec<Role>, Call<PolicyClient>)> {
    let everyone = Role::ALL.to_vec();
    vec![
        (
            "PublishPolicy",
            vec![Role::Auditor],
            rpc!(PolicyClient, publish_policy, pb::PublishPolicyRequest),
        ),
        (
            "GetPublication",
            everyone.clone(),
            rpc!(PolicyClient, get_publication, pb::GetPublicationRequest),
        ),
        (
            "ListPublications",
            everyone.clone(),
            rpc!(PolicyClient, list_publications, pb::ListPublicationsRequest),
        ),
        (
            "AcknowledgePolicy",
            everyone,
            rpc!(
                PolicyClient,
                acknowledge_policy,
                pb::AcknowledgePolicyRequest
            ),
        ),
        (
            "ListAcknowledgements",
            vec![Role::Auditor, Role::DepartmentHead],
            rpc!(
                PolicyClient,
                list_acknowledgements,
                pb::ListAcknowledgementsRequest
            ),
        ),
        (
            "GetAcknowledgementRates",
            vec![Role::Auditor, Role::DepartmentHead],
            rpc!(
                PolicyClient,
                get_acknowledgement_rates,
                pb::GetAcknowledgementRatesRequest
            ),
        ),
    ]
}

async fn every_training_and_policy_rpc_admits_exactly_its_roles(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    let mut wrong = role_matrix_violations(training_matrix(), |role| {
        app.training(app.tokens.token(role))
    })
    .await;
    wrong.extend(
        role_matrix_violations(policy_matrix(), |role| app.policies(app.tokens.token(role))).await,
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
