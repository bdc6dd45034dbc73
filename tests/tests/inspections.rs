//! Inspections across services (§6.1): an inspection of sales samples
//! applications from intake's ledger, process instances from workflow and
//! documents from the document service over gRPC, as the inspector; and
//! what intake reported as overdue comes back as a candidate finding, made
//! a finding the department's head reads.

use procedo_platform::identity::Role;
use procedo_proto::compliance as pb;
use procedo_proto::document as doc_pb;
use procedo_proto::intake as intake_pb;
use procedo_proto::workflow as wf_pb;
use procedo_testkit::{Backend, backend_tests};
use procedo_tests::{Cluster, eventually};

backend_tests!(an_inspection_samples_the_three_services_and_finds_what_ran_out);

fn now() -> i64 {
    procedo_platform::time::now()
}

async fn sales_records(cluster: &Cluster) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut admin = cluster.intake(cluster.admin());
    admin
        .create_application_type(intake_pb::CreateApplicationTypeRequest {
            request_id: String::new(),
            application_type: Some(intake_pb::ApplicationType {
                code: "permit".into(),
                display_name: "Permit".into(),
                in_scope: true,
                // Runs out at once: intake reports it to compliance.
                processing_time_limit: Some(prost_types::Duration {
                    seconds: 1,
                    nanos: 0,
                }),
                process_key: "standard".into(),
                handling_department: "sales".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("a type");
    let mut clerk = cluster.intake(cluster.tokens.token(Role::IntakeClerk));
    let mut applications = Vec::new();
    for i in 0..4 {
        let a = clerk
            .submit_application(intake_pb::SubmitApplicationRequest {
                type_code: "permit".into(),
                applicant: Some(intake_pb::Applicant {
                    name: format!("Applicant {i}"),
                    email: "a@example.com".into(),
                    ..Default::default()
                }),
                matter: Some(intake_pb::Matter {
                    title: format!("Matter {i}"),
                    description: "A matter".into(),
                }),
                ..Default::default()
            })
            .await
            .expect("submitted")
            .into_inner();
        applications.push(a.name);
    }
    let mut head = cluster
        .workflow(
            cluster
                .tokens
                .token_for("hank", "sales", &[Role::DepartmentHead]),
        )
        .await;
    let mut instances = Vec::new();
    for i in 0..3 {
        let instance = head
            .start_instance(wf_pb::StartInstanceRequest {
                process_key: "standard".into(),
                business_key: format!("sales-{i}"),
                business_type: "review".into(),
                title: format!("Sales review {i}"),
                initiator_department: "sales".into(),
                ..Default::default()
            })
            .await
            .expect("started")
            .into_inner();
        instances.push(instance.name);
    }
    cluster
        .document(cluster.admin())
        .await
        .create_category(doc_pb::CreateCategoryRequest {
            request_id: String::new(),
            category: Some(doc_pb::Category {
                code: "rep".into(),
                display_name: "Reports".into(),
                number_pattern: "R-{seq:4}".into(),
                number_reset: doc_pb::NumberReset::Never as i32,
                default_confidentiality: procedo_proto::common::Clearance::Internal as i32,
                retention_years: 5,
                ..Default::default()
            }),
        })
        .await
        .expect("a category");
    let mut author = cluster
        .document(cluster.tokens.token_for("sam", "sales", &[Role::Executor]))
        .await;
    let mut documents = Vec::new();
    for i in 0..3 {
        let d = author
            .register_document(doc_pb::RegisterDocumentRequest {
                category: "categories/rep".into(),
                title: format!("Report {i}"),
                ..Default::default()
            })
            .await
            .expect("registered")
            .into_inner();
        documents.push(d.name);
    }
    (applications, instances, documents)
}

async fn an_inspection_samples_the_three_services_and_finds_what_ran_out(backend: Backend) {
    let cluster = Cluster::start(backend).await;
    let start = now() - 60_000;
    let (applications, instances, documents) = sales_records(&cluster).await;
    let mut ann = cluster
        .inspections(cluster.tokens.token_for("ann", "audit", &[Role::Auditor]))
        .await;
    let inspection = ann
        .create_inspection(pb::CreateInspectionRequest {
            title: "Sales, this hour".into(),
            scope: pb::InspectionScope::ProcessCompliance as i32,
            department: "sales".into(),
            start_time: Some(procedo_platform::time::to_timestamp(start)),
            end_time: Some(procedo_platform::time::to_timestamp(now() + 3_600_000)),
            checklist: vec![pb::ChecklistItemSpec {
                criterion: "Applications are handled within their time limit".into(),
                clause: "§5.1.2".into(),
            }],
            ..Default::default()
        })
        .await
        .expect("an inspection")
        .into_inner();

    let size = |source: pb::SampleSource, count| pb::SampleSize {
        source: source as i32,
        count,
    };
    let sampled = ann
        .draw_samples(pb::DrawSamplesRequest {
            inspection: inspection.name.clone(),
            etag: inspection.etag.clone(),
            sizes: vec![
                size(pb::SampleSource::IntakeLedger, 2),
                size(pb::SampleSource::WorkflowInstances, 2),
                size(pb::SampleSource::Documents, 5),
            ],
            ..Default::default()
        })
        .await
        .expect("sampled")
        .into_inner();
    let from = |source: pb::SampleSource| -> Vec<String> {
        sampled
            .samples
            .iter()
            .filter(|s| s.source == source as i32)
            .map(|s| s.resource.clone())
            .collect()
    };
    let ledger = from(pb::SampleSource::IntakeLedger);
    assert_eq!(ledger.len(), 2);
    assert!(
        ledger.iter().all(|r| applications.contains(r)),
        "{ledger:?}"
    );
    let drawn = from(pb::SampleSource::WorkflowInstances);
    assert_eq!(drawn.len(), 2);
    assert!(drawn.iter().all(|r| instances.contains(r)), "{drawn:?}");
    let mut docs = from(pb::SampleSource::Documents);
    docs.sort();
    let mut all_docs = documents.clone();
    all_docs.sort();
    assert_eq!(docs, all_docs, "fewer than asked: all of them");
    assert!(sampled.samples.iter().all(|s| !s.label.is_empty()));

    // Drawing again adds only records not drawn yet.
    let more = ann
        .draw_samples(pb::DrawSamplesRequest {
            inspection: inspection.name.clone(),
            etag: sampled.etag.clone(),
            sizes: vec![size(pb::SampleSource::IntakeLedger, 10)],
            ..Default::default()
        })
        .await
        .expect("sampled again")
        .into_inner();
    let mut ledger = more
        .samples
        .iter()
        .filter(|s| s.source == pb::SampleSource::IntakeLedger as i32)
        .map(|s| s.resource.clone())
        .collect::<Vec<_>>();
    ledger.sort();
    let mut expected = applications.clone();
    expected.sort();
    assert_eq!(ledger, expected, "each application once");

    // Intake reports each application that ran out; the checks find them.
    let wanted = applications.len();
    let candidates = eventually("intake's reports reach compliance", || {
        let mut ann = ann.clone();
        let name = inspection.name.clone();
        async move {
            let current = ann
                .get_inspection(pb::GetInspectionRequest { name: name.clone() })
                .await
                .expect("read")
                .into_inner();
            let checked = ann
                .run_checks(pb::RunChecksRequest {
                    inspection: name,
                    etag: current.etag,
                    ..Default::default()
                })
                .await
                .expect("checked")
                .into_inner();
            (checked.candidates.len() >= wanted).then_some(checked.candidates)
        }
    })
    .await;
    let mut overdue: Vec<String> = candidates
        .iter()
        .filter(|c| c.check == pb::CheckKind::ApplicationOverdue as i32)
        .flat_map(|c| c.resources.clone())
        .collect();
    overdue.sort();
    assert_eq!(overdue, expected);
    assert!(
        candidates
            .iter()
            .all(|c| c.clause == "§5.1.2" && c.evidence.contains("processing time limit"))
    );
}
