//! The audit log's use cases: appending what the services send, signing
//! checkpoints, proving inclusion and consistency, checking it all.

use ed25519_dalek::SigningKey;
use procedo_platform::error::Error;
use procedo_platform::paging::Page;
use procedo_proto::common::{AuditRecord, Event};
use prost::Message as _;
use sqlx::AnyConnection;

use super::App;
use crate::domain::check::{LogCheck, Report, Signed};
use crate::domain::entry::{Entry, EntryActor};
use crate::domain::merkle::{self, Hash};
use crate::domain::note::{self, Checkpoint, NoteKey};
use crate::store::{self, EntryFilter, NewEntry, StoredCheckpoint, StoredKey};

/// Entries read at once while the log is checked.
const CHECK_BATCH: i64 = 1_000;

/// The log's identity: its origin and the key it signs with.
#[derive(Clone)]
pub struct LogKey {
    pub origin: String,
    pub signing: SigningKey,
}

impl std::fmt::Debug for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogKey")
            .field("origin", &self.origin)
            .field("key_id", &self.note_key().id_hex())
            .finish_non_exhaustive()
    }
}

impl LogKey {
    pub fn note_key(&self) -> NoteKey {
        NoteKey {
            name: self.origin.clone(),
            public: self.signing.verifying_key(),
        }
    }
}

/// What an audit event carries, as the log records it.
pub fn new_entry(event: &Event) -> Result<NewEntry, Error> {
    let data = event
        .data
        .as_ref()
        .map(|d| d.value.as_slice())
        .unwrap_or_default();
    let record = AuditRecord::decode(data)
        .map_err(|_| Error::invalid("event.data", "is not a procedo.common.v1.AuditRecord"))?;
    let actor = event.actor.clone().unwrap_or_default();
    Ok(NewEntry {
        source: event.source.clone(),
        source_event_id: event.id.clone(),
        source_seq: u64::try_from(event.sequence).unwrap_or(0),
        source_time_ms: event
            .time
            .as_ref()
            .and_then(procedo_platform::time::from_timestamp)
            .unwrap_or(0),
        actor: EntryActor {
            subject: actor.subject,
            name: actor.name,
            department: actor.department,
        },
        action: record.action,
        resource: record.resource,
        detail: record.detail,
        trace_id: record.trace_id,
    })
}

/// An inclusion proof and what it proves.
#[derive(Debug, Clone)]
pub struct Inclusion {
    pub entry: Entry,
    pub checkpoint: StoredCheckpoint,
    pub hashes: Vec<Hash>,
}

/// A consistency proof between two checkpoints.
#[derive(Debug, Clone)]
pub struct Consistency {
    pub first: StoredCheckpoint,
    pub second: StoredCheckpoint,
    pub hashes: Vec<Hash>,
}

fn entry_name(seq: u64) -> String {
    format!("auditEntries/{seq}")
}

fn no_checkpoint(size: Option<u64>) -> Error {
    match size {
        Some(size) => Error::NotFound(format!("checkpoints/{size}")),
        None => Error::Precondition {
            kind: "NO_CHECKPOINT",
            resource: "checkpoints".into(),
            description: "none has been signed yet: create one first".into(),
        },
    }
}

impl App {
    /// Appends the audit records among `events` to the log in `tx`.
    pub async fn append(&self, tx: &mut AnyConnection, events: &[&Event]) -> Result<usize, Error> {
        let records = events
            .iter()
            .map(|e| new_entry(e))
            .collect::<Result<Vec<_>, _>>()?;
        let appended = store::append(tx, records, self.now()).await?;
        Ok(appended.len())
    }

    /// Signs a checkpoint of the log as it is now; the existing one when
    /// the log has not grown since.
    pub async fn create_checkpoint(&self) -> Result<StoredCheckpoint, Error> {
        let mut tx = self.db().begin().await?;
        let size = store::size(&mut tx).await?;
        if let Some(existing) = store::get_checkpoint(&mut tx, Some(size)).await? {
            return Ok(existing);
        }
        let root = self.root(&mut tx, size).await?;
        let key = &self.inner.key;
        let body = Checkpoint {
            origin: key.origin.clone(),
            size,
            root,
        }
        .body();
        let kept = store::insert_checkpoint(
            &mut tx,
            &StoredCheckpoint {
                tree_size: size,
                root,
                note: note::sign(&body, &key.origin, &key.signing),
                key_id: key.note_key().id_hex(),
                created_at: self.now(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(kept)
    }

    /// Signs a checkpoint when the log grew since the last one.
    pub async fn checkpoint_if_grown(&self) -> Result<usize, Error> {
        let mut conn = self.db().reader().acquire().await?;
        let size = store::size(&mut conn).await?;
        let latest = store::get_checkpoint(&mut conn, None).await?;
        drop(conn);
        if latest.is_some_and(|c| c.tree_size == size) {
            return Ok(0);
        }
        self.create_checkpoint().await?;
        Ok(1)
    }

    async fn root(&self, conn: &mut AnyConnection, size: u64) -> Result<Hash, Error> {
        let ids = merkle::root_nodes(size);
        let nodes = store::nodes(conn, &ids).await?;
        if ids.iter().any(|id| !nodes.contains_key(id)) {
            return Err(Error::unexpected("the audit log's tree is missing nodes"));
        }
        Ok(merkle::root(size, &|id| nodes[&id]))
    }

    pub async fn checkpoint(&self, size: Option<u64>) -> Result<StoredCheckpoint, Error> {
        let mut conn = self.db().reader().acquire().await?;
        store::get_checkpoint(&mut conn, size)
            .await?
            .ok_or_else(|| no_checkpoint(size))
    }

    pub async fn checkpoints(&self, page: &Page) -> Result<(Vec<StoredCheckpoint>, String), Error> {
        let mut rows = store::list_checkpoints(self.db(), page).await?;
        let next = page.finish(&mut rows, |c| c.tree_size.to_string());
        Ok((rows, next))
    }

    pub async fn entry(&self, seq: u64) -> Result<Entry, Error> {
        let mut conn = self.db().reader().acquire().await?;
        store::get_entry(&mut conn, seq)
            .await?
            .ok_or_else(|| Error::NotFound(entry_name(seq)))
    }

    pub async fn entries(
        &self,
        filter: &EntryFilter,
        page: &Page,
    ) -> Result<(Vec<Entry>, String), Error> {
        let mut rows = store::list_entries(self.db(), filter, page).await?;
        let next = page.finish(&mut rows, |e| e.seq.to_string());
        Ok((rows, next))
    }

    pub async fn keys(&self) -> Result<Vec<StoredKey>, Error> {
        let mut conn = self.db().reader().acquire().await?;
        Ok(store::keys(&mut conn).await?)
    }

    /// The proof that entry `seq` is in the checkpoint of `size` (the
    /// latest when `None`).
    pub async fn inclusion(&self, seq: u64, size: Option<u64>) -> Result<Inclusion, Error> {
        let mut conn = self.db().reader().acquire().await?;
        let checkpoint = store::get_checkpoint(&mut conn, size)
            .await?
            .ok_or_else(|| no_checkpoint(size))?;
        let entry = store::get_entry(&mut conn, seq)
            .await?
            .ok_or_else(|| Error::NotFound(entry_name(seq)))?;
        if seq >= checkpoint.tree_size {
            return Err(Error::Precondition {
                kind: "NOT_YET_IN_CHECKPOINT",
                resource: entry_name(seq),
                description: format!(
                    "is not in the checkpoint of {} entries: ask for a later checkpoint (or create one)",
                    checkpoint.tree_size
                ),
            });
        }
        let ids = merkle::inclusion_nodes(seq, checkpoint.tree_size);
        let nodes = store::nodes(&mut conn, &ids).await?;
        if ids.iter().any(|id| !nodes.contains_key(id)) {
            return Err(Error::unexpected("the audit log's tree is missing nodes"));
        }
        let hashes = merkle::inclusion_proof(seq, checkpoint.tree_size, &|id| nodes[&id]);
        Ok(Inclusion {
            entry,
            checkpoint,
            hashes,
        })
    }

    /// The proof that the checkpoint of `second` (the latest when `None`)
    /// extends the one of `first`.
    pub async fn consistency(&self, first: u64, second: Option<u64>) -> Result<Consistency, Error> {
        let mut conn = self.db().reader().acquire().await?;
        let later = store::get_checkpoint(&mut conn, second)
            .await?
            .ok_or_else(|| no_checkpoint(second))?;
        let earlier = store::get_checkpoint(&mut conn, Some(first))
            .await?
            .ok_or_else(|| no_checkpoint(Some(first)))?;
        if earlier.tree_size > later.tree_size {
            return Err(Error::invalid(
                "first_tree_size",
                format!(
                    "must not be larger than the later checkpoint's {}",
                    later.tree_size
                ),
            ));
        }
        let ids = merkle::consistency_nodes(earlier.tree_size, later.tree_size);
        let nodes = store::nodes(&mut conn, &ids).await?;
        if ids.iter().any(|id| !nodes.contains_key(id)) {
            return Err(Error::unexpected("the audit log's tree is missing nodes"));
        }
        let hashes =
            merkle::consistency_proof(earlier.tree_size, later.tree_size, &|id| nodes[&id]);
        Ok(Consistency {
            first: earlier,
            second: later,
            hashes,
        })
    }

    /// Recomputes the log from its entries and checks every stored hash
    /// and checkpoint.
    pub async fn verify(&self) -> Result<Report, Error> {
        let mut conn = self.db().reader().acquire().await?;
        let keys: Vec<NoteKey> = store::keys(&mut conn)
            .await?
            .iter()
            .filter_map(|k| NoteKey::parse_verifier(&k.verifier))
            .collect();
        let signed = store::all_checkpoints(&mut conn)
            .await?
            .into_iter()
            .map(|c| Signed {
                size: c.tree_size,
                root: c.root,
                note: c.note,
            })
            .collect();
        let size = store::size(&mut conn).await?;
        let mut check = LogCheck::new(&self.inner.key.origin, &keys, signed);
        let mut next = 0;
        loop {
            let batch = store::entries_from(&mut conn, next, CHECK_BATCH).await?;
            let Some(last) = batch.last() else { break };
            let end = last.seq + 1;
            let stored = store::nodes_completed_by(&mut conn, next, end).await?;
            check.entries(&batch, Some(&stored));
            next = end;
        }
        Ok(check.finish(Some(size)))
    }
}
