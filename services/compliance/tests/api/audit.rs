//! The audit log (§1.3.4): records appended once, read back by auditors,
//! proved included and consistent against signed checkpoints, and checked
//! whole — tampering is found and located.

use procedo_compliance::domain::entry::Entry;
use procedo_compliance::domain::merkle::{self, Hash};
use procedo_compliance::domain::note::{self, Checkpoint, NoteKey};
use procedo_platform::identity::Role;
use procedo_proto::compliance as pb;
use procedo_testkit::{Backend, backend_tests};
use tonic::Code;

use crate::helpers::{AuditClient, TestCompliance, audit_event};

backend_tests!(
    records_are_appended_once_in_arrival_order_and_found_by_every_filter,
    proofs_lead_to_signed_checkpoints_and_a_wrong_one_does_not,
    a_changed_removed_or_inserted_row_is_found_and_named,
    bad_requests_are_named_and_change_nothing,
    a_batch_appends_what_it_can_in_order_and_refuses_the_rest_alone,
);

fn hash(bytes: &[u8]) -> Hash {
    bytes.try_into().expect("32 bytes")
}

async fn list(client: &mut AuditClient, r: pb::ListAuditEntriesRequest) -> Vec<pb::AuditEntry> {
    client
        .list_audit_entries(r)
        .await
        .expect("listed")
        .into_inner()
        .entries
}

async fn records_are_appended_once_in_arrival_order_and_found_by_every_filter(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    // Two sources, interleaved; workflow's arrive out of their own order.
    for i in 1..=6 {
        assert!(
            app.deliver(audit_event(
                "procedo.intake",
                i,
                "intake.inquiries.create",
                &format!("inquiries/{i}")
            ))
            .await
        );
        let w = 7 - i;
        assert!(
            app.deliver(audit_event(
                "procedo.workflow",
                w,
                "workflow.tasks.complete",
                &format!("tasks/{w}")
            ))
            .await
        );
    }
    assert!(
        !app.deliver(audit_event(
            "procedo.intake",
            3,
            "intake.inquiries.create",
            "inquiries/3"
        ))
        .await,
        "a redelivery appends nothing"
    );
    let mut auditor = app.auditor();
    let all = list(&mut auditor, pb::ListAuditEntriesRequest::default()).await;
    assert_eq!(all.len(), 12);
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (0..12).rev().collect::<Vec<i64>>(),
        "newest first, numbered from 0 without gaps"
    );
    let first = all.last().expect("the first entry");
    assert_eq!(first.name, "auditEntries/0");
    assert_eq!(
        (first.source.as_str(), first.source_seq),
        ("procedo.intake", 1)
    );
    assert_eq!(first.resource, "inquiries/1");
    assert_eq!(first.detail, "step 1");
    assert_eq!(
        first.actor.as_ref().map(|a| a.subject.as_str()),
        Some("person-1")
    );
    // The canonical text is the entry, and the leaf hash is over it.
    let parsed = Entry::from_canonical(&first.canonical_json).expect("canonical JSON");
    assert_eq!(parsed.seq, 0);
    assert_eq!(parsed.action, "intake.inquiries.create");
    assert_eq!(
        merkle::leaf_hash(first.canonical_json.as_bytes()).to_vec(),
        first.leaf_hash
    );

    // Per-source order reads back from source_seq.
    let mut workflow = list(
        &mut auditor,
        pb::ListAuditEntriesRequest {
            source: "procedo.workflow".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(workflow.len(), 6);
    workflow.sort_by_key(|e| e.source_seq);
    assert_eq!(workflow[0].resource, "tasks/1");

    for (filter, expected) in [
        (
            pb::ListAuditEntriesRequest {
                resource: "inquiries/4".into(),
                ..Default::default()
            },
            1,
        ),
        (
            pb::ListAuditEntriesRequest {
                actor: "person-0".into(),
                ..Default::default()
            },
            4,
        ),
        (
            pb::ListAuditEntriesRequest {
                action: "workflow.tasks.complete".into(),
                ..Default::default()
            },
            6,
        ),
        (
            pb::ListAuditEntriesRequest {
                trace_id: format!("{:032x}", 2),
                ..Default::default()
            },
            2,
        ),
        (
            pb::ListAuditEntriesRequest {
                start_time: Some(procedo_platform::time::to_timestamp(1_764_000_002_000)),
                end_time: Some(procedo_platform::time::to_timestamp(1_764_000_004_000)),
                ..Default::default()
            },
            4,
        ),
    ] {
        let found = list(&mut auditor, filter.clone()).await;
        assert_eq!(found.len(), expected, "{filter:?}: {found:?}");
    }

    // Paging goes through all of them once.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = auditor
            .list_audit_entries(pb::ListAuditEntriesRequest {
                page_size: 5,
                page_token: token,
                ..Default::default()
            })
            .await
            .expect("a page")
            .into_inner();
        seen.extend(page.entries.iter().map(|e| e.seq));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, (0..12).rev().collect::<Vec<i64>>());

    let one = auditor
        .get_audit_entry(pb::GetAuditEntryRequest {
            name: "auditEntries/5".into(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(one.seq, 5);
    let missing = auditor
        .get_audit_entry(pb::GetAuditEntryRequest {
            name: "auditEntries/12".into(),
        })
        .await
        .expect_err("not there yet");
    assert_eq!(missing.code(), Code::NotFound);
}

/// The log's published keys, as an auditor keeps them.
async fn keys(client: &mut AuditClient) -> Vec<NoteKey> {
    client
        .list_log_keys(pb::ListLogKeysRequest {})
        .await
        .expect("keys")
        .into_inner()
        .keys
        .iter()
        .map(|k| NoteKey::parse_verifier(&k.verifier).expect("a verifier key"))
        .collect()
}

/// Opens `c`'s note with `keys` and checks it says what `c` says.
fn check_note(c: &pb::Checkpoint, keys: &[NoteKey]) {
    let (body, _) = note::open(&c.note, keys).expect("signed by the log");
    let read = Checkpoint::parse(&body).expect("a checkpoint");
    assert_eq!(read.origin, "procedo.test/audit");
    assert_eq!(read.size, u64::try_from(c.tree_size).expect("a size"));
    assert_eq!(read.root.to_vec(), c.root_hash);
}

async fn proofs_lead_to_signed_checkpoints_and_a_wrong_one_does_not(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    let mut auditor = app.auditor();
    let none = auditor
        .get_checkpoint(pb::GetCheckpointRequest::default())
        .await
        .expect_err("none yet");
    assert_eq!(none.code(), Code::FailedPrecondition);
    for i in 1..=13 {
        app.deliver(audit_event(
            "procedo.intake",
            i,
            "intake.applications.submit",
            &format!("applications/{i}"),
        ))
        .await;
    }
    let first = auditor
        .create_checkpoint(pb::CreateCheckpointRequest::default())
        .await
        .expect("signed")
        .into_inner();
    assert_eq!(first.tree_size, 13);
    let again = auditor
        .create_checkpoint(pb::CreateCheckpointRequest::default())
        .await
        .expect("the same")
        .into_inner();
    assert_eq!(again, first, "no growth, no new checkpoint");
    for i in 14..=22 {
        app.deliver(audit_event(
            "procedo.document",
            i,
            "document.documents.register",
            &format!("documents/{i}"),
        ))
        .await;
    }
    let second = auditor
        .create_checkpoint(pb::CreateCheckpointRequest::default())
        .await
        .expect("signed")
        .into_inner();
    assert_eq!(second.tree_size, 22);
    let keys = keys(&mut auditor).await;
    check_note(&first, &keys);
    check_note(&second, &keys);

    // Every entry is in the later checkpoint; the first 13 in the earlier.
    for (checkpoint, size) in [(&second, 22u64), (&first, 13)] {
        for seq in 0..size {
            let proof = auditor
                .get_inclusion_proof(pb::GetInclusionProofRequest {
                    entry: format!("auditEntries/{seq}"),
                    tree_size: checkpoint.tree_size,
                })
                .await
                .expect("a proof")
                .into_inner();
            let entry = proof.entry.expect("the entry");
            let leaf = merkle::leaf_hash(entry.canonical_json.as_bytes());
            let hashes: Vec<Hash> = proof.hashes.iter().map(|h| hash(h)).collect();
            let root = hash(&checkpoint.root_hash);
            merkle::verify_inclusion(seq, size, &leaf, &hashes, &root)
                .unwrap_or_else(|e| panic!("entry {seq} in {size}: {e}"));
            let mut changed = Entry::from_canonical(&entry.canonical_json).expect("an entry");
            changed.detail.push('!');
            assert!(
                merkle::verify_inclusion(seq, size, &changed.leaf_hash(), &hashes, &root).is_err(),
                "a changed entry is not in the tree"
            );
        }
    }
    let later = auditor
        .get_inclusion_proof(pb::GetInclusionProofRequest {
            entry: "auditEntries/15".into(),
            tree_size: 13,
        })
        .await
        .expect_err("entry 15 came after the checkpoint of 13");
    assert_eq!(later.code(), Code::FailedPrecondition);
    let unknown = auditor
        .get_inclusion_proof(pb::GetInclusionProofRequest {
            entry: "auditEntries/1".into(),
            tree_size: 14,
        })
        .await
        .expect_err("no checkpoint of 14");
    assert_eq!(unknown.code(), Code::NotFound);

    // The later checkpoint extends the earlier one.
    let consistency = auditor
        .get_consistency_proof(pb::GetConsistencyProofRequest {
            first_tree_size: 13,
            second_tree_size: 0,
        })
        .await
        .expect("a proof")
        .into_inner();
    let hashes: Vec<Hash> = consistency.hashes.iter().map(|h| hash(h)).collect();
    let (old, new) = (hash(&first.root_hash), hash(&second.root_hash));
    merkle::verify_consistency(13, 22, &old, &new, &hashes).expect("consistent");
    let forged_old = merkle::leaf_hash(b"a different history");
    assert!(merkle::verify_consistency(13, 22, &forged_old, &new, &hashes).is_err());
    let mut bent = hashes.clone();
    bent[0][0] ^= 1;
    assert!(merkle::verify_consistency(13, 22, &old, &new, &bent).is_err());

    let listed = auditor
        .list_checkpoints(pb::ListCheckpointsRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .checkpoints;
    assert_eq!(
        listed.iter().map(|c| c.tree_size).collect::<Vec<_>>(),
        [22, 13]
    );
    let verified = auditor
        .verify_audit_log(pb::VerifyAuditLogRequest {})
        .await
        .expect("checked")
        .into_inner();
    assert!(verified.verified, "{verified:?}");
    assert_eq!(
        (verified.entries_checked, verified.checkpoints_checked),
        (22, 2)
    );
}

async fn verify(client: &mut AuditClient) -> pb::VerifyAuditLogResponse {
    client
        .verify_audit_log(pb::VerifyAuditLogRequest {})
        .await
        .expect("checked")
        .into_inner()
}

async fn a_changed_removed_or_inserted_row_is_found_and_named(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    let mut auditor = app.auditor();
    for i in 1..=30 {
        app.deliver(audit_event(
            "procedo.intake",
            i,
            "intake.inquiries.respond",
            &format!("inquiries/{i}"),
        ))
        .await;
    }
    auditor
        .create_checkpoint(pb::CreateCheckpointRequest::default())
        .await
        .expect("signed");
    assert!(verify(&mut auditor).await.verified);
    let db = &app.server.db;

    // Someone with database access rewrites what happened.
    tamper(
        db,
        "UPDATE audit_entries SET detail = 'nothing to see' WHERE seq = 17",
    )
    .await;
    let report = verify(&mut auditor).await;
    assert!(!report.verified);
    assert_eq!(report.problems[0].entry, "auditEntries/17", "{report:?}");
    tamper(
        db,
        "UPDATE audit_entries SET detail = 'step 18' WHERE seq = 17",
    )
    .await;
    assert!(
        verify(&mut auditor).await.verified,
        "restored, it verifies again"
    );

    // … removes an entry …
    assert_eq!(
        tamper(db, "DELETE FROM audit_entries WHERE seq = 9").await,
        1
    );
    let report = verify(&mut auditor).await;
    assert_eq!(report.problems[0].entry, "auditEntries/9", "{report:?}");
    assert!(
        report.problems[0].description.contains("missing"),
        "{report:?}"
    );

    // … or slips one in at the end.
    tamper(
        db,
        "INSERT INTO audit_entries (seq, source, source_event_id, source_seq, source_time, logged_at, \
         actor_subject, actor_name, actor_department, action, resource, detail, trace_id) \
         VALUES (30, 'procedo.intake', 'forged', 99, 0, 0, 'x', 'x', 'x', 'x', 'x', 'x', '')",
    )
    .await;
    let report = verify(&mut auditor).await;
    let named: Vec<&str> = report.problems.iter().map(|p| p.entry.as_str()).collect();
    assert!(named.contains(&"auditEntries/30"), "{report:?}");
}

async fn bad_requests_are_named_and_change_nothing(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    app.deliver(audit_event(
        "procedo.intake",
        1,
        "intake.inquiries.create",
        "inquiries/1",
    ))
    .await;
    let mut auditor = app.auditor();
    for (name, field) in [
        ("auditEntries/x", "name"),
        ("entries/1", "name"),
        ("auditEntries/-1", "name"),
    ] {
        let e = auditor
            .get_audit_entry(pb::GetAuditEntryRequest { name: name.into() })
            .await
            .expect_err("not an entry name");
        assert_eq!(e.code(), Code::InvalidArgument);
        assert_eq!(violated(&e), [field], "{name}");
    }
    let e = auditor
        .get_inclusion_proof(pb::GetInclusionProofRequest {
            entry: "auditEntries/0".into(),
            tree_size: -3,
        })
        .await
        .expect_err("a negative size");
    assert_eq!(violated(&e), ["tree_size"]);
    let e = auditor
        .list_audit_entries(pb::ListAuditEntriesRequest {
            start_time: Some(procedo_platform::time::to_timestamp(2_000)),
            end_time: Some(procedo_platform::time::to_timestamp(1_000)),
            ..Default::default()
        })
        .await
        .expect_err("backwards");
    assert_eq!(violated(&e), ["end_time"]);
    // A body that is not an audit record is refused and appends nothing.
    let mut broken = audit_event(
        "procedo.intake",
        2,
        "intake.inquiries.create",
        "inquiries/2",
    );
    if let Some(data) = broken.data.as_mut() {
        data.value = vec![0xff, 0xff, 0xff];
    }
    let mut sink =
        procedo_proto::common::event_sink_service_client::EventSinkServiceClient::with_interceptor(
            app.server.channel.clone(),
            procedo_testkit::Bearer(Some(app.tokens.token(Role::Service))),
        );
    let e = sink
        .deliver(procedo_proto::common::DeliverRequest {
            event: Some(broken),
        })
        .await
        .expect_err("not an audit record");
    assert_eq!(e.code(), Code::InvalidArgument);
    let all = list(&mut auditor, pb::ListAuditEntriesRequest::default()).await;
    assert_eq!(all.len(), 1);
    assert!(verify(&mut auditor).await.verified);
}

async fn a_batch_appends_what_it_can_in_order_and_refuses_the_rest_alone(backend: Backend) {
    let app = TestCompliance::spawn(backend).await;
    app.deliver(audit_event(
        "procedo.intake",
        1,
        "intake.inquiries.create",
        "inquiries/1",
    ))
    .await;
    let mut broken = audit_event(
        "procedo.intake",
        3,
        "intake.inquiries.create",
        "inquiries/3",
    );
    if let Some(data) = broken.data.as_mut() {
        data.value = vec![0xff, 0xff];
    }
    let mut nameless = audit_event(
        "procedo.intake",
        4,
        "intake.inquiries.create",
        "inquiries/4",
    );
    nameless.id = String::new();
    let batch = vec![
        audit_event(
            "procedo.intake",
            1,
            "intake.inquiries.create",
            "inquiries/1",
        ),
        audit_event(
            "procedo.intake",
            2,
            "intake.inquiries.respond",
            "inquiries/1",
        ),
        broken,
        nameless,
        audit_event("procedo.workflow", 1, "workflow.tasks.complete", "tasks/1"),
    ];
    let mut sink =
        procedo_proto::common::event_sink_service_client::EventSinkServiceClient::with_interceptor(
            app.server.channel.clone(),
            procedo_testkit::Bearer(Some(app.tokens.token(Role::Service))),
        );
    let results = sink
        .deliver_batch(procedo_proto::common::DeliverBatchRequest { events: batch })
        .await
        .expect("delivered")
        .into_inner()
        .results;
    assert_eq!(results.len(), 5);
    assert!(
        results[0].duplicate && results[0].refused.is_empty(),
        "{results:?}"
    );
    assert!(
        !results[1].duplicate && results[1].refused.is_empty(),
        "{results:?}"
    );
    assert!(results[2].refused.contains("AuditRecord"), "{results:?}");
    assert!(results[3].refused.contains("event.id"), "{results:?}");
    assert!(results[4].refused.is_empty(), "{results:?}");
    let mut auditor = app.auditor();
    let all = list(
        &mut auditor,
        pb::ListAuditEntriesRequest {
            order_by: "seq".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        all.iter()
            .map(|e| e.source_event_id.as_str())
            .collect::<Vec<_>>(),
        ["procedo.intake-1", "procedo.intake-2", "procedo.workflow-1"],
        "each taken once, in the order sent"
    );
    auditor
        .create_checkpoint(pb::CreateCheckpointRequest::default())
        .await
        .expect("signed");
    assert!(verify(&mut auditor).await.verified);
    let too_many = sink
        .deliver_batch(procedo_proto::common::DeliverBatchRequest {
            events: (0..501)
                .map(|i| {
                    audit_event(
                        "procedo.intake",
                        100 + i,
                        "intake.inquiries.create",
                        "inquiries/9",
                    )
                })
                .collect(),
        })
        .await
        .expect_err("too many at once");
    assert_eq!(violated(&too_many), ["events"]);
}

/// Runs `sql` straight on the database, as someone with access to it
/// could; the rows it touched.
async fn tamper(db: &procedo_platform::db::Database, sql: &str) -> u64 {
    let mut tx = db.begin().await.expect("a transaction");
    let done = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut *tx)
        .await
        .expect("the statement runs");
    tx.commit().await.expect("committed");
    done.rows_affected()
}

fn violated(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt as _;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|f| f.field).collect())
        .unwrap_or_default()
}
