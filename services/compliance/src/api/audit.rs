//! `procedo.compliance.v1.AuditLogService`: auditors read and prove the
//! log; anyone authenticated reads its keys.

use procedo_platform::auth::{authenticated, authorize};
use procedo_platform::identity::Role;
use procedo_platform::paging::Page;
use procedo_platform::time::{to_timestamp, to_timestamp_opt};
use procedo_platform::validate::Violations;
use procedo_proto::compliance as pb;
use tonic::{Request, Response, Status};

use crate::app::App;
use crate::domain::check::Report;
use crate::domain::entry::Entry;
use crate::store::{EntryFilter, StoredCheckpoint, StoredKey};

/// Who reads, proves and checks the log (admins always may).
const AUDITORS: &[Role] = &[Role::Auditor];

/// The `procedo.compliance.v1.AuditLogService` implementation.
#[derive(Debug, Clone)]
pub struct AuditLogApi {
    app: App,
}

impl AuditLogApi {
    pub fn new(app: App) -> AuditLogApi {
        AuditLogApi { app }
    }
}

pub fn entry_to_pb(e: &Entry) -> pb::AuditEntry {
    let canonical = e.canonical();
    pb::AuditEntry {
        name: format!("auditEntries/{}", e.seq),
        seq: i64::try_from(e.seq).unwrap_or(i64::MAX),
        source: e.source.clone(),
        source_event_id: e.source_event_id.clone(),
        source_seq: i64::try_from(e.source_seq).unwrap_or(i64::MAX),
        source_time: Some(to_timestamp(e.source_time_ms)),
        logged_time: Some(to_timestamp(e.logged_at_ms)),
        actor: Some(pb::AuditActor {
            subject: e.actor.subject.clone(),
            name: e.actor.name.clone(),
            department: e.actor.department.clone(),
        }),
        action: e.action.clone(),
        resource: e.resource.clone(),
        detail: e.detail.clone(),
        trace_id: e.trace_id.clone(),
        leaf_hash: crate::domain::merkle::leaf_hash(canonical.as_bytes()).to_vec(),
        canonical_json: canonical,
    }
}

pub fn checkpoint_to_pb(origin: &str, c: &StoredCheckpoint) -> pb::Checkpoint {
    pb::Checkpoint {
        origin: origin.to_owned(),
        tree_size: i64::try_from(c.tree_size).unwrap_or(i64::MAX),
        root_hash: c.root.to_vec(),
        note: c.note.clone(),
        key_id: c.key_id.clone(),
        create_time: to_timestamp_opt(Some(c.created_at)),
    }
}

fn key_to_pb(k: &StoredKey) -> pb::LogKey {
    pb::LogKey {
        verifier: k.verifier.clone(),
        key_id: k.key_id.clone(),
        active: k.active,
        create_time: Some(to_timestamp(k.created_at)),
    }
}

fn report_to_pb(r: &Report) -> pb::VerifyAuditLogResponse {
    pb::VerifyAuditLogResponse {
        verified: r.verified(),
        entries_checked: i64::try_from(r.entries_checked).unwrap_or(i64::MAX),
        checkpoints_checked: i64::try_from(r.checkpoints_checked).unwrap_or(i64::MAX),
        problems: r
            .problems
            .iter()
            .map(|p| pb::AuditProblem {
                entry: p
                    .seq
                    .map(|s| format!("auditEntries/{s}"))
                    .unwrap_or_default(),
                checkpoint_tree_size: p
                    .checkpoint
                    .map_or(0, |s| i64::try_from(s).unwrap_or(i64::MAX)),
                description: p.description.clone(),
            })
            .collect(),
    }
}

/// The position in "auditEntries/{seq}".
fn seq_of(field: &str, name: &str, v: &mut Violations) -> u64 {
    match name
        .strip_prefix("auditEntries/")
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| i64::try_from(*s).is_ok())
    {
        Some(seq) => seq,
        None => {
            v.add(
                field,
                "must be \"auditEntries/<seq>\", seq a whole number from 0",
            );
            0
        }
    }
}

/// A checkpoint size: 0 means the latest.
fn size_of(field: &str, size: i64, v: &mut Violations) -> Option<u64> {
    match size {
        0 => None,
        n if n < 0 => {
            v.add(field, "must not be negative (0 means the latest)");
            None
        }
        n => Some(n.unsigned_abs()),
    }
}

fn optional(field: &str, value: &str, v: &mut Violations) -> Option<String> {
    let value = v.optional_line(field, value, 500);
    (!value.is_empty()).then_some(value)
}

#[tonic::async_trait]
impl pb::audit_log_service_server::AuditLogService for AuditLogApi {
    async fn list_audit_entries(
        &self,
        r: Request<pb::ListAuditEntriesRequest>,
    ) -> Result<Response<pb::ListAuditEntriesResponse>, Status> {
        authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        let filter = EntryFilter {
            resource: optional("resource", &r.resource, &mut v),
            actor: optional("actor", &r.actor, &mut v),
            action: optional("action", &r.action, &mut v),
            source: optional("source", &r.source, &mut v),
            trace_id: optional("trace_id", &r.trace_id, &mut v),
            from: v.time_opt("start_time", r.start_time.as_ref()),
            before: v.time_opt("end_time", r.end_time.as_ref()),
            oldest_first: match r.order_by.trim() {
                "" | "seq desc" => false,
                "seq" | "seq asc" => true,
                _ => {
                    v.add(
                        "order_by",
                        "must be \"seq desc\" (newest first) or \"seq\" (oldest first)",
                    );
                    false
                }
            },
        };
        if let (Some(from), Some(before)) = (filter.from, filter.before)
            && before <= from
        {
            v.add("end_time", "must be after start_time");
        }
        v.finish()?;
        let (entries, next_page_token) = self.app.entries(&filter, &page).await?;
        Ok(Response::new(pb::ListAuditEntriesResponse {
            entries: entries.iter().map(entry_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn get_audit_entry(
        &self,
        r: Request<pb::GetAuditEntryRequest>,
    ) -> Result<Response<pb::AuditEntry>, Status> {
        authorize(&r, AUDITORS)?;
        let mut v = Violations::new();
        let seq = seq_of("name", &r.get_ref().name, &mut v);
        v.finish()?;
        Ok(Response::new(entry_to_pb(&self.app.entry(seq).await?)))
    }

    async fn get_checkpoint(
        &self,
        r: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::Checkpoint>, Status> {
        authorize(&r, AUDITORS)?;
        let mut v = Violations::new();
        let size = size_of("tree_size", r.get_ref().tree_size, &mut v);
        v.finish()?;
        let c = self.app.checkpoint(size).await?;
        Ok(Response::new(checkpoint_to_pb(self.app.origin(), &c)))
    }

    async fn list_checkpoints(
        &self,
        r: Request<pb::ListCheckpointsRequest>,
    ) -> Result<Response<pb::ListCheckpointsResponse>, Status> {
        authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let page = Page::of(&r, &mut v);
        v.finish()?;
        let (rows, next_page_token) = self.app.checkpoints(&page).await?;
        Ok(Response::new(pb::ListCheckpointsResponse {
            checkpoints: rows
                .iter()
                .map(|c| checkpoint_to_pb(self.app.origin(), c))
                .collect(),
            next_page_token,
        }))
    }

    async fn create_checkpoint(
        &self,
        r: Request<pb::CreateCheckpointRequest>,
    ) -> Result<Response<pb::Checkpoint>, Status> {
        authorize(&r, AUDITORS)?;
        let mut v = Violations::new();
        v.request_id(&r.get_ref().request_id, r.get_ref());
        v.finish()?;
        // Idempotent by nature: the same log gives the same checkpoint.
        let c = self.app.create_checkpoint().await?;
        Ok(Response::new(checkpoint_to_pb(self.app.origin(), &c)))
    }

    async fn get_inclusion_proof(
        &self,
        r: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::InclusionProof>, Status> {
        authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let seq = seq_of("entry", &r.entry, &mut v);
        let size = size_of("tree_size", r.tree_size, &mut v);
        v.finish()?;
        let proof = self.app.inclusion(seq, size).await?;
        Ok(Response::new(pb::InclusionProof {
            entry: Some(entry_to_pb(&proof.entry)),
            checkpoint: Some(checkpoint_to_pb(self.app.origin(), &proof.checkpoint)),
            hashes: proof.hashes.iter().map(|h| h.to_vec()).collect(),
        }))
    }

    async fn get_consistency_proof(
        &self,
        r: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::ConsistencyProof>, Status> {
        authorize(&r, AUDITORS)?;
        let r = r.into_inner();
        let mut v = Violations::new();
        let first = match r.first_tree_size {
            n if n < 0 => {
                v.add("first_tree_size", "must not be negative");
                0
            }
            n => n.unsigned_abs(),
        };
        let second = size_of("second_tree_size", r.second_tree_size, &mut v);
        v.finish()?;
        let proof = self.app.consistency(first, second).await?;
        Ok(Response::new(pb::ConsistencyProof {
            first: Some(checkpoint_to_pb(self.app.origin(), &proof.first)),
            second: Some(checkpoint_to_pb(self.app.origin(), &proof.second)),
            hashes: proof.hashes.iter().map(|h| h.to_vec()).collect(),
        }))
    }

    async fn verify_audit_log(
        &self,
        r: Request<pb::VerifyAuditLogRequest>,
    ) -> Result<Response<pb::VerifyAuditLogResponse>, Status> {
        authorize(&r, AUDITORS)?;
        Ok(Response::new(report_to_pb(&self.app.verify().await?)))
    }

    async fn list_log_keys(
        &self,
        r: Request<pb::ListLogKeysRequest>,
    ) -> Result<Response<pb::ListLogKeysResponse>, Status> {
        authenticated(&r)?;
        Ok(Response::new(pb::ListLogKeysResponse {
            keys: self.app.keys().await?.iter().map(key_to_pb).collect(),
        }))
    }
}
