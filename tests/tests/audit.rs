//! The audit log across services (§1.3.4): every change intake, workflow
//! and document make reaches compliance's log once, in each source's
//! order, and the log verifies; compliance being down costs the other
//! services nothing, and what they queued meanwhile arrives afterwards.

use std::collections::HashMap;

use procedo_platform::identity::Role;
use procedo_platform::outbox;
use procedo_proto::common::Money;
use procedo_proto::compliance as pb;
use procedo_proto::document as doc_pb;
use procedo_proto::intake as intake_pb;
use procedo_proto::workflow as wf_pb;
use procedo_testkit::{Backend, backend_tests};
use procedo_tests::{AuditClient, Cluster, eventually};
use sqlx::Row as _;

backend_tests!(
    every_services_audit_records_arrive_once_in_their_order_and_the_log_verifies,
    compliance_down_costs_the_services_nothing_and_their_records_arrive_afterwards,
);

/// Changes in all three services: an application type and applications
/// at intake, an authorisation matrix at workflow, a category and
/// documents at document. Every call must succeed.
async fn workload(cluster: &Cluster, round: usize) {
    let mut admin = cluster.intake(cluster.admin());
    let code = format!("permit{round}");
    admin
        .create_application_type(intake_pb::CreateApplicationTypeRequest {
            request_id: String::new(),
            application_type: Some(intake_pb::ApplicationType {
                code: code.clone(),
                display_name: "Permit".into(),
                in_scope: true,
                processing_time_limit: Some(prost_types::Duration {
                    seconds: 30 * 86_400,
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
    for i in 0..5 {
        clerk
            .submit_application(intake_pb::SubmitApplicationRequest {
                type_code: code.clone(),
                applicant: Some(intake_pb::Applicant {
                    name: format!("Applicant {i}"),
                    email: "a@example.com".into(),
                    ..Default::default()
                }),
                matter: Some(intake_pb::Matter {
                    title: format!("Matter {i}"),
                    description: "A matter".into(),
                }),
                amount: Some(Money {
                    currency_code: "CNY".into(),
                    minor_units: 10_000,
                }),
                ..Default::default()
            })
            .await
            .expect("submitted");
    }
    cluster
        .workflow(cluster.admin())
        .await
        .publish_authorization_matrix(wf_pb::PublishAuthorizationMatrixRequest {
            request_id: String::new(),
            matrix: Some(wf_pb::AuthorizationMatrix {
                currency_code: "CNY".into(),
                levels: vec![wf_pb::ApprovalLevel {
                    level: 1,
                    name: "Department head".into(),
                }],
                rules: vec![wf_pb::MatrixRule {
                    business_type: code.clone(),
                    min_minor_units: 0,
                    max_minor_units: 0,
                    levels: vec![1],
                }],
                ..Default::default()
            }),
        })
        .await
        .expect("a matrix");
    let mut documents = cluster.document(cluster.admin()).await;
    documents
        .create_category(doc_pb::CreateCategoryRequest {
            request_id: String::new(),
            category: Some(doc_pb::Category {
                code: format!("rep{round}"),
                display_name: "Reports".into(),
                number_pattern: format!("R{round}-{{seq:4}}"),
                number_reset: doc_pb::NumberReset::Never as i32,
                default_confidentiality: procedo_proto::common::Clearance::Internal as i32,
                retention_years: 5,
                ..Default::default()
            }),
        })
        .await
        .expect("a category");
    let mut author = cluster.document(cluster.tokens.token(Role::Executor)).await;
    for i in 0..4 {
        author
            .register_document(doc_pb::RegisterDocumentRequest {
                category: format!("categories/rep{round}"),
                title: format!("Report {i}"),
                ..Default::default()
            })
            .await
            .expect("registered");
    }
}

/// Each source's audit records, by event id, in the order it wrote them.
async fn queued(cluster: &Cluster) -> HashMap<&'static str, Vec<String>> {
    let mut out = HashMap::new();
    for (source, db) in cluster.source_dbs() {
        let ids = sqlx::query(
            "SELECT id FROM outbox WHERE destination = $1 AND event_type = $2 ORDER BY seq",
        )
        .bind(outbox::AUDIT)
        .bind(procedo_proto::events::AUDIT)
        .fetch_all(db.reader())
        .await
        .expect("the outbox")
        .iter()
        .map(|row| row.try_get::<String, _>("id").expect("an id"))
        .collect();
        out.insert(source, ids);
    }
    out
}

/// Every entry of the log, oldest first.
async fn logged(auditor: &mut AuditClient) -> Vec<pb::AuditEntry> {
    let mut entries = Vec::new();
    let mut token = String::new();
    loop {
        let page = auditor
            .list_audit_entries(pb::ListAuditEntriesRequest {
                page_size: 500,
                page_token: token,
                ..Default::default()
            })
            .await
            .expect("a page")
            .into_inner();
        entries.extend(page.entries);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    entries.reverse();
    entries
}

/// Waits until the log holds exactly what the sources queued, then checks
/// each source's order and that the log verifies.
async fn all_arrive_in_order_and_verify(cluster: &Cluster) {
    let sources = queued(cluster).await;
    let expected: usize = sources.values().map(Vec::len).sum();
    assert!(sources.values().all(|ids| !ids.is_empty()), "{sources:?}");
    let mut auditor = cluster.audit(cluster.tokens.token(Role::Auditor)).await;
    let entries = eventually("every audit record is logged", || {
        let mut auditor = auditor.clone();
        async move {
            let entries = logged(&mut auditor).await;
            (entries.len() >= expected).then_some(entries)
        }
    })
    .await;
    assert_eq!(entries.len(), expected, "each record once");
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (0..expected as i64).collect::<Vec<_>>()
    );
    for (source, ids) in &sources {
        let mut theirs: Vec<&pb::AuditEntry> =
            entries.iter().filter(|e| e.source == *source).collect();
        theirs.sort_by_key(|e| e.source_seq);
        let read_back: Vec<&str> = theirs.iter().map(|e| e.source_event_id.as_str()).collect();
        assert_eq!(
            read_back,
            ids.iter().map(String::as_str).collect::<Vec<_>>(),
            "{source}'s order"
        );
    }
    let checkpoint = auditor
        .create_checkpoint(pb::CreateCheckpointRequest::default())
        .await
        .expect("signed")
        .into_inner();
    assert_eq!(checkpoint.tree_size, expected as i64);
    let report = auditor
        .verify_audit_log(pb::VerifyAuditLogRequest {})
        .await
        .expect("checked")
        .into_inner();
    assert!(report.verified, "{report:?}");
    assert_eq!(report.entries_checked, expected as i64);
}

async fn every_services_audit_records_arrive_once_in_their_order_and_the_log_verifies(
    backend: Backend,
) {
    let cluster = Cluster::start(backend).await;
    workload(&cluster, 1).await;
    all_arrive_in_order_and_verify(&cluster).await;
}

async fn compliance_down_costs_the_services_nothing_and_their_records_arrive_afterwards(
    backend: Backend,
) {
    let mut cluster = Cluster::start(backend).await;
    workload(&cluster, 1).await;
    cluster.stop_compliance().await;
    // Every call succeeds with compliance away; the records wait.
    workload(&cluster, 2).await;
    workload(&cluster, 3).await;
    let mut waiting = 0;
    for (_, db) in cluster.source_dbs() {
        waiting += outbox::backlog(db, outbox::AUDIT)
            .await
            .expect("the backlog")
            .0;
    }
    assert!(waiting > 0, "records wait in the outboxes");
    cluster.start_compliance().await;
    all_arrive_in_order_and_verify(&cluster).await;
}
