//! Inspections (§6.1): a plan, a checklist from a template, the automatic
//! checks proposing candidates from what the services reported, findings
//! naming clause and records, and completion only once nothing is left.

use procedo_platform::identity::Role;
use procedo_proto::compliance as pb;
use procedo_proto::{document, events, intake, workflow};
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{InspectionClient, TestCompliance, report};

backend_tests!(
    an_inspection_checks_the_period_records_findings_and_completes_only_when_done,
    department_heads_see_their_department_only,
    bad_inspection_requests_are_named_and_change_nothing,
    sampling_from_a_service_not_configured_is_unavailable_and_named,
);

/// The inspected period: 30 days from here.
pub const START: i64 = 1_790_000_000_000;
pub const DAY: i64 = 86_400_000;
pub const END: i64 = START + 30 * DAY;

pub fn ts(ms: i64) -> Option<prost_types::Timestamp> {
    Some(procedo_platform::time::to_timestamp(ms))
}

pub fn auditor(app: &TestCompliance) -> InspectionClient {
    app.inspections(app.tokens.token_for("ann", "audit", &[Role::Auditor]))
}

/// A plan of sales and an inspection of it with a two-item checklist.
pub async fn inspection(app: &TestCompliance) -> pb::Inspection {
    let mut ann = auditor(app);
    let template = ann
        .create_checklist_template(pb::CreateChecklistTemplateRequest {
            title: "Process compliance".into(),
            scope: pb::InspectionScope::ProcessCompliance as i32,
            items: vec![
                pb::ChecklistItemSpec {
                    criterion: "Every task is done within its time limit".into(),
                    clause: "§3.4".into(),
                },
                pb::ChecklistItemSpec {
                    criterion: "Approved documents are signed".into(),
                    clause: "§4.2".into(),
                },
            ],
            ..Default::default()
        })
        .await
        .expect("a template")
        .into_inner();
    let plan = ann
        .create_inspection_plan(pb::CreateInspectionPlanRequest {
            title: "Autumn supervision".into(),
            start_time: ts(START),
            end_time: ts(END),
            scopes: vec![pb::InspectionScope::ProcessCompliance as i32],
            departments: vec!["sales".into(), "finance".into()],
            inspectors: vec!["ann".into()],
            ..Default::default()
        })
        .await
        .expect("a plan")
        .into_inner();
    ann.create_inspection(pb::CreateInspectionRequest {
        plan: plan.name,
        title: "Sales, autumn".into(),
        scope: pb::InspectionScope::ProcessCompliance as i32,
        department: "sales".into(),
        checklist_template: template.name,
        ..Default::default()
    })
    .await
    .expect("an inspection")
    .into_inner()
}

/// What the services reported over and around the period.
pub async fn reports(app: &TestCompliance) {
    let overdue = |id: &str, task: &str, department: &str, at: i64| {
        report(
            id,
            "procedo.workflow",
            events::workflow::TASK_OVERDUE,
            events::workflow::INSTANCE_PROGRESS,
            &workflow::InstanceProgress {
                instance: "instances/i1".into(),
                task: task.into(),
                step_name: "Joint review".into(),
                department: department.into(),
                ..Default::default()
            },
            at,
        )
    };
    let doc = |id: &str, event_type: &str, name: &str, at: i64| {
        report(
            id,
            "procedo.document",
            event_type,
            events::document::DOCUMENT,
            &document::Document {
                name: name.into(),
                number: format!("M-{id}"),
                title: "Pricing memo".into(),
                owning_department: "sales".into(),
                ..Default::default()
            },
            at,
        )
    };
    let loan = |id: &str, event_type: &str| {
        report(
            id,
            "procedo.document",
            event_type,
            events::document::LOAN,
            &document::Loan {
                name: format!("loans/{id}"),
                document: "documents/d9".into(),
                document_number: "M-9".into(),
                owning_department: "sales".into(),
                returned_sha256: "ab".repeat(32),
                ..Default::default()
            },
            START + 5 * DAY,
        )
    };
    let late_inquiry = report(
        "q1",
        "procedo.intake",
        events::intake::INQUIRY_OVERDUE,
        events::intake::STATUS_CHANGED,
        &intake::StatusChanged {
            resource: "inquiries/q1".into(),
            to_status: "OPEN".into(),
            department: "sales".into(),
            ..Default::default()
        },
        START + 6 * DAY,
    );
    // Reported after the period, about a deadline that passed inside it.
    let answered_late = report(
        "q2",
        "procedo.intake",
        events::intake::INQUIRY_ANSWERED_LATE,
        events::intake::STATUS_CHANGED,
        &intake::StatusChanged {
            resource: "inquiries/q2".into(),
            to_status: "RESPONDED".into(),
            department: "sales".into(),
            due_time: ts(START + 7 * DAY),
            ..Default::default()
        },
        END + DAY,
    );
    for event in [
        answered_late,
        overdue("w1", "tasks/t1", "sales", START + DAY),
        // Outside the period, and another department's: not candidates.
        overdue("w2", "tasks/t2", "sales", END + DAY),
        overdue("w3", "tasks/t3", "finance", START + DAY),
        doc(
            "d1",
            events::document::APPROVED,
            "documents/d1",
            START + 2 * DAY,
        ),
        doc(
            "d1s",
            events::document::SIGNED,
            "documents/d1",
            START + 3 * DAY,
        ),
        doc(
            "d2",
            events::document::APPROVED,
            "documents/d2",
            START + 4 * DAY,
        ),
        loan("l1", events::document::LOAN_OVERDUE),
        loan("l2", events::document::LOAN_INTEGRITY_MISMATCH),
        late_inquiry,
    ] {
        assert!(app.deliver(event).await);
    }
    // A redelivery keeps nothing twice.
    assert!(
        !app.deliver(overdue("w1", "tasks/t1", "sales", START + DAY))
            .await
    );
}

async fn an_inspection_checks_the_period_records_findings_and_completes_only_when_done(
    backend: Backend,
) {
    let app = TestCompliance::spawn(backend).await;
    let mut ann = auditor(&app);
    let i = inspection(&app).await;
    assert_eq!(i.status, pb::InspectionStatus::Open as i32);
    assert_eq!(
        (i.start_time, i.end_time),
        (ts(START), ts(END)),
        "the plan's period"
    );
    assert_eq!(i.inspectors, ["ann"], "the plan's inspectors");
    assert_eq!(
        i.checklist
            .iter()
            .map(|c| (c.id.as_str(), c.result))
            .collect::<Vec<_>>(),
        [
            ("1", pb::ChecklistResult::Unmarked as i32),
            ("2", pb::ChecklistResult::Unmarked as i32)
        ]
    );

    reports(&app).await;
    let checked = ann
        .run_checks(pb::RunChecksRequest {
            inspection: i.name.clone(),
            etag: i.etag.clone(),
            ..Default::default()
        })
        .await
        .expect("checked")
        .into_inner();
    let mut found: Vec<(i32, String, String)> = checked
        .candidates
        .iter()
        .map(|c| (c.check, c.resources.join(","), c.clause.clone()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (
                pb::CheckKind::TaskOverdue as i32,
                "tasks/t1".to_owned(),
                "§3.4".to_owned()
            ),
            (
                pb::CheckKind::InquiryLate as i32,
                "inquiries/q1".to_owned(),
                "§5.1.1".to_owned()
            ),
            (
                pb::CheckKind::InquiryLate as i32,
                "inquiries/q2".to_owned(),
                "§5.1.1".to_owned()
            ),
            (
                pb::CheckKind::ApprovedNotSigned as i32,
                "documents/d2".to_owned(),
                "§4.2".to_owned()
            ),
            (
                pb::CheckKind::LoanOverdue as i32,
                "loans/l1".to_owned(),
                "§4.3".to_owned()
            ),
            (
                pb::CheckKind::IntegrityMismatch as i32,
                "loans/l2".to_owned(),
                "§4.3".to_owned()
            ),
        ]
    );
    let task = checked
        .candidates
        .iter()
        .find(|c| c.check == pb::CheckKind::TaskOverdue as i32)
        .expect("the overdue task");
    assert!(
        task.evidence.contains("Joint review") && task.evidence.contains("passed its time limit"),
        "{}",
        task.evidence
    );
    assert_eq!(task.occur_time, ts(START + DAY));

    // Running the checks again proposes nothing new.
    let again = ann
        .run_checks(pb::RunChecksRequest {
            inspection: i.name.clone(),
            etag: checked.etag.clone(),
            ..Default::default()
        })
        .await
        .expect("checked again")
        .into_inner();
    assert_eq!(again.candidates.len(), 6);

    // Not done yet: completing names what is left.
    let early = ann
        .complete_inspection(pb::CompleteInspectionRequest {
            inspection: i.name.clone(),
            etag: again.etag.clone(),
            ..Default::default()
        })
        .await
        .expect_err("work is left");
    assert_eq!(early.code(), Code::FailedPrecondition);
    assert!(
        early.message().contains("items 1, 2")
            && early.message().contains("candidates 1, 2, 3, 4, 5, 6"),
        "{}",
        early.message()
    );

    let mut etag = again.etag.clone();
    for (item, result, notes) in [
        ("1", pb::ChecklistResult::Nonconforming, "one task overdue"),
        ("2", pb::ChecklistResult::Conforming, ""),
    ] {
        let marked = ann
            .mark_checklist_item(pb::MarkChecklistItemRequest {
                inspection: i.name.clone(),
                etag: etag.clone(),
                item: item.into(),
                result: result as i32,
                notes: notes.into(),
                evidence: vec!["documents/0193a0c0-0000-7000-8000-000000000001".into()],
                ..Default::default()
            })
            .await
            .expect("marked")
            .into_inner();
        etag = marked.etag;
    }

    let finding = ann
        .record_finding(pb::RecordFindingRequest {
            inspection: i.name.clone(),
            etag: etag.clone(),
            candidate: task.id.clone(),
            severity: pb::Severity::Major as i32,
            clause: "§3.4".into(),
            description: "The joint review ran past its time limit".into(),
            ..Default::default()
        })
        .await
        .expect("a finding")
        .into_inner();
    assert_eq!(finding.resources, ["tasks/t1"], "the candidate's records");
    assert_eq!(finding.department, "sales");
    assert_eq!(finding.status, pb::FindingStatus::Open as i32);
    assert_eq!(finding.inspection, i.name);

    let mut current = ann
        .get_inspection(pb::GetInspectionRequest {
            name: i.name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(current.findings, std::slice::from_ref(&finding.name));
    let accepted = current
        .candidates
        .iter()
        .find(|c| c.id == task.id)
        .expect("the candidate");
    assert_eq!(
        (accepted.status, accepted.finding.as_str()),
        (pb::CandidateStatus::Accepted as i32, finding.name.as_str())
    );
    // A decided candidate is not decided again.
    let twice = ann
        .dismiss_candidate(pb::DismissCandidateRequest {
            inspection: i.name.clone(),
            etag: current.etag.clone(),
            candidate: task.id.clone(),
            reason: "changed my mind".into(),
            ..Default::default()
        })
        .await
        .expect_err("already accepted");
    assert_eq!(twice.code(), Code::FailedPrecondition);
    assert!(
        twice.message().contains("ACCEPTED") && twice.message().contains("PROPOSED"),
        "{}",
        twice.message()
    );

    for c in current.candidates.clone() {
        if c.status == pb::CandidateStatus::Proposed as i32 {
            current = ann
                .dismiss_candidate(pb::DismissCandidateRequest {
                    inspection: i.name.clone(),
                    etag: current.etag.clone(),
                    candidate: c.id,
                    reason: "explained and agreed at the closing meeting".into(),
                    ..Default::default()
                })
                .await
                .expect("dismissed")
                .into_inner();
        }
    }
    let done = ann
        .complete_inspection(pb::CompleteInspectionRequest {
            inspection: i.name.clone(),
            etag: current.etag.clone(),
            ..Default::default()
        })
        .await
        .expect("completed")
        .into_inner();
    assert_eq!(done.status, pb::InspectionStatus::Completed as i32);
    let late = ann
        .mark_checklist_item(pb::MarkChecklistItemRequest {
            inspection: i.name.clone(),
            etag: done.etag.clone(),
            item: "2".into(),
            result: pb::ChecklistResult::Nonconforming as i32,
            notes: "second thoughts".into(),
            ..Default::default()
        })
        .await
        .expect_err("completed");
    assert_eq!(late.code(), Code::FailedPrecondition);
    assert!(
        late.message().contains("COMPLETED") && late.message().contains("OPEN"),
        "{}",
        late.message()
    );

    let actions: Vec<&str> = done.history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions.first(), Some(&"created"));
    assert_eq!(actions.last(), Some(&"completed"));
    assert!(
        done.history
            .iter()
            .all(|e| e.actor.as_ref().is_some_and(|a| a.subject == "ann"))
    );

    // Every change is in the audit log, as compliance's own records.
    let logged = app.own_entries("compliance.inspections.complete", 1).await;
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].resource, i.name);
    assert_eq!(
        logged[0].actor.as_ref().map(|a| a.subject.as_str()),
        Some("ann")
    );
    let findings = app.own_entries("compliance.findings.record", 1).await;
    assert_eq!(findings[0].resource, finding.name);
}

async fn department_heads_see_their_department_only(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    let i = inspection(&app).await;
    let mut sales = app.inspections(
        app.tokens
            .token_for("hank", "sales", &[Role::DepartmentHead]),
    );
    let mut finance = app.inspections(app.tokens.token_for(
        "fay",
        "finance",
        &[Role::DepartmentHead],
    ));
    sales
        .get_inspection(pb::GetInspectionRequest {
            name: i.name.clone(),
        })
        .await
        .expect("their department's");
    let hidden = finance
        .get_inspection(pb::GetInspectionRequest {
            name: i.name.clone(),
        })
        .await
        .expect_err("another department's");
    assert_eq!(hidden.code(), Code::NotFound);
    // Asking for another department's list gives one's own.
    let listed = finance
        .list_inspections(pb::ListInspectionsRequest {
            department: "sales".into(),
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner();
    assert!(listed.inspections.is_empty());
    let listed = sales
        .list_inspections(pb::ListInspectionsRequest::default())
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(listed.inspections.len(), 1);
    // Heads read; they do not inspect.
    let refused = sales
        .run_checks(pb::RunChecksRequest {
            inspection: i.name.clone(),
            etag: i.etag.clone(),
            ..Default::default()
        })
        .await
        .expect_err("not an auditor");
    assert_eq!(refused.code(), Code::PermissionDenied);
}

async fn bad_inspection_requests_are_named_and_change_nothing(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    let mut ann = auditor(&app);
    let i = inspection(&app).await;

    let fields = |s: &tonic::Status| -> Vec<String> {
        tonic_types::StatusExt::get_details_bad_request(s)
            .map(|b| b.field_violations.into_iter().map(|f| f.field).collect())
            .unwrap_or_default()
    };

    let bad = ann
        .create_inspection(pb::CreateInspectionRequest {
            title: String::new(),
            scope: 9,
            department: String::new(),
            start_time: ts(END),
            end_time: ts(START),
            checklist: vec![pb::ChecklistItemSpec {
                criterion: String::new(),
                clause: "4.2".into(),
            }],
            checklist_template: "checklistTemplates/nope".into(),
            ..Default::default()
        })
        .await
        .expect_err("bad");
    assert_eq!(bad.code(), Code::InvalidArgument);
    let named = fields(&bad);
    for field in ["title", "scope", "department", "end_time", "checklist"] {
        assert!(named.iter().any(|f| f == field), "{field} not in {named:?}");
    }

    // A department the plan does not cover.
    let outside = ann
        .create_inspection(pb::CreateInspectionRequest {
            plan: format!("inspectionPlans/{}", "0193a0c0-0000-7000-8000-00000000ffff"),
            title: "x".into(),
            scope: 1,
            department: "sales".into(),
            checklist: vec![pb::ChecklistItemSpec {
                criterion: "c".into(),
                clause: String::new(),
            }],
            ..Default::default()
        })
        .await
        .expect_err("no such plan");
    assert_eq!(outside.code(), Code::NotFound);

    let finding = ann
        .record_finding(pb::RecordFindingRequest {
            inspection: i.name.clone(),
            etag: i.etag.clone(),
            severity: 0,
            clause: "4.2".into(),
            resources: vec!["not a record".into()],
            description: String::new(),
            ..Default::default()
        })
        .await
        .expect_err("bad finding");
    let named = fields(&finding);
    for field in ["severity", "clause", "resources[0]", "description"] {
        assert!(named.iter().any(|f| f == field), "{field} not in {named:?}");
    }

    let stale = ann
        .mark_checklist_item(pb::MarkChecklistItemRequest {
            inspection: i.name.clone(),
            etag: "\"99\"".into(),
            item: "1".into(),
            result: pb::ChecklistResult::Conforming as i32,
            ..Default::default()
        })
        .await
        .expect_err("stale etag");
    assert_eq!(stale.code(), Code::Aborted);

    let nonconforming = ann
        .mark_checklist_item(pb::MarkChecklistItemRequest {
            inspection: i.name.clone(),
            etag: i.etag.clone(),
            item: "7".into(),
            result: pb::ChecklistResult::Conforming as i32,
            ..Default::default()
        })
        .await
        .expect_err("no such item");
    assert_eq!(nonconforming.code(), Code::InvalidArgument);
    assert!(
        nonconforming.message().contains("\"1\" to \"2\""),
        "{}",
        nonconforming.message()
    );

    let unknown_candidate = ann
        .dismiss_candidate(pb::DismissCandidateRequest {
            inspection: i.name.clone(),
            etag: i.etag.clone(),
            candidate: "1".into(),
            reason: "r".into(),
            ..Default::default()
        })
        .await
        .expect_err("none proposed");
    assert!(
        unknown_candidate.message().contains("run the checks"),
        "{}",
        unknown_candidate.message()
    );

    let unchanged = ann
        .get_inspection(pb::GetInspectionRequest {
            name: i.name.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(unchanged, i, "nothing stored changed");
    let none = ann
        .list_findings(pb::ListFindingsRequest::default())
        .await
        .expect("listed")
        .into_inner();
    assert!(none.findings.is_empty());
}

async fn sampling_from_a_service_not_configured_is_unavailable_and_named(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    let mut ann = auditor(&app);
    let i = inspection(&app).await;
    let status = ann
        .draw_samples(pb::DrawSamplesRequest {
            inspection: i.name.clone(),
            etag: i.etag.clone(),
            sizes: vec![pb::SampleSize {
                source: pb::SampleSource::Documents as i32,
                count: 3,
            }],
            ..Default::default()
        })
        .await
        .expect_err("no document service");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        status.message().contains("PROCEDO_COMPLIANCE_DOCUMENT_URL"),
        "{}",
        status.message()
    );
    let bad = ann
        .draw_samples(pb::DrawSamplesRequest {
            inspection: i.name.clone(),
            etag: i.etag.clone(),
            sizes: vec![
                pb::SampleSize {
                    source: 1,
                    count: 0,
                },
                pb::SampleSize {
                    source: 1,
                    count: 5,
                },
            ],
            ..Default::default()
        })
        .await
        .expect_err("bad sizes");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(
        bad.message().contains("sizes[0].count") && bad.message().contains("sizes[1].source"),
        "{}",
        bad.message()
    );
}
