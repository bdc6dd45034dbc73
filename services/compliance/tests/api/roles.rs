//! Roles decide which RPCs a caller may use (admin passes every check).

use procedo_platform::identity::Role;
use procedo_proto::compliance as pb;
use procedo_testkit::{Backend, Call, backend_tests, role_matrix_violations, rpc};

use crate::helpers::{AuditClient, TestCompliance};

backend_tests!(every_audit_rpc_admits_exactly_its_roles);

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
