//! `procedo audit …`: the compliance service's audit log — entries,
//! checkpoints, proofs, the server's own check, and exports checked
//! offline.
//!
//! An export (`procedo audit export`) is JSON Lines: a header
//! `{"format":"procedo-audit-export/1","origin":…,"keys":[…]}`, then one
//! `{"checkpoint":"<signed note>"}` line per checkpoint, smallest first,
//! then every entry, oldest first, each line exactly its canonical JSON —
//! the bytes its leaf hash is taken over. A proof (`procedo audit proof`)
//! is one JSON object: `{"format":"procedo-audit-proof/1","entry":…,
//! "seq":…,"tree_size":…,"hashes":[base64…],"checkpoint":"<note>"}`.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clap::{Args, Subcommand};
use procedo_compliance::domain::check::{LogCheck, Report, Signed};
use procedo_compliance::domain::entry::Entry;
use procedo_compliance::domain::merkle::{self, Hash};
use procedo_compliance::domain::note::{self, Checkpoint, NoteKey};
use procedo_proto::compliance as pb;
use procedo_proto::compliance::audit_log_service_client::AuditLogServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::client::{Auth, COMPLIANCE, Connection};
use crate::output::{self, Format, time};

type Client = AuditLogServiceClient<InterceptedService<Channel, Auth>>;

const EXPORT_FORMAT: &str = "procedo-audit-export/1";
const PROOF_FORMAT: &str = "procedo-audit-proof/1";

#[derive(Debug, Args)]
pub struct AuditCommand {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Entries, newest first (auditors).
    Entries {
        /// Only entries about this resource, e.g. applications/<id>.
        #[arg(long, default_value = "")]
        resource: String,
        /// Only entries by this subject.
        #[arg(long, default_value = "")]
        actor: String,
        /// Only this action, e.g. intake.applications.review.
        #[arg(long, default_value = "")]
        action: String,
        /// Only from this service, e.g. procedo.workflow.
        #[arg(long, default_value = "")]
        source: String,
        /// Only entries of this trace.
        #[arg(long, default_value = "")]
        trace_id: String,
    },
    /// One entry, with its canonical JSON and leaf hash.
    Get {
        /// The entry's position (or auditEntries/<seq>).
        entry: String,
    },
    /// The latest checkpoint, or the one of --size; --create signs one of
    /// the log as it is now.
    Checkpoint {
        /// The checkpoint of the log at this size (number of entries).
        #[arg(long)]
        size: Option<i64>,
        /// Sign a checkpoint of the log as it is now.
        #[arg(long)]
        create: bool,
    },
    /// The log's public keys, as note verifier keys.
    Keys,
    /// Ask the server to recompute the log and check every hash and
    /// checkpoint.
    Check,
    /// Write the proof that an entry is in a checkpoint, for `verify`.
    Proof {
        /// The entry's position (or auditEntries/<seq>).
        entry: String,
        /// The checkpoint's size; the latest when unset.
        #[arg(long)]
        size: Option<i64>,
        /// The file to write; `-` for standard output.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the whole log (entries, checkpoints, keys), for `verify`.
    Export {
        /// The file to write; `-` for standard output. An existing file is
        /// replaced only once the export is complete.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check an export or a proof offline: every hash recomputed, every
    /// checkpoint's signature checked. Needs no server.
    Verify {
        /// An export or a proof file.
        file: PathBuf,
        /// A verifier key you trust (from `procedo audit keys`); repeat.
        /// Without one, an export is checked with the keys it carries
        /// (compare them with the ones you trust); a proof needs one.
        #[arg(long = "key")]
        keys: Vec<String>,
    },
    /// The proof that the log at --from entries is a prefix of the log at
    /// --to (RFC 9162 consistency): nothing was changed or removed between
    /// two checkpoints.
    Consistency {
        /// The earlier checkpoint's size.
        #[arg(long)]
        from: i64,
        /// The later checkpoint's size; the latest when unset.
        #[arg(long)]
        to: Option<i64>,
    },
}

fn seq_name(entry: &str) -> String {
    if entry.starts_with("auditEntries/") {
        entry.to_owned()
    } else {
        format!("auditEntries/{entry}")
    }
}

fn entry_row(e: &pb::AuditEntry) -> Vec<String> {
    let actor = e.actor.clone().unwrap_or_default();
    vec![
        e.seq.to_string(),
        time(e.source_time.as_ref()),
        e.source.clone(),
        actor.subject,
        e.action.clone(),
        e.resource.clone(),
        e.detail.clone(),
    ]
}

fn show_checkpoint(format: Format, c: &pb::Checkpoint) -> anyhow::Result<()> {
    output::record(
        format,
        c,
        "procedo.compliance.v1.Checkpoint",
        vec![
            ("origin", c.origin.clone()),
            ("tree size", c.tree_size.to_string()),
            ("root hash", STANDARD.encode(&c.root_hash)),
            ("key id", c.key_id.clone()),
            ("signed", time(c.create_time.as_ref())),
            ("note", c.note.trim_end().replace('\n', "\n      ")),
        ],
    )
}

pub async fn run(command: AuditCommand) -> anyhow::Result<()> {
    if let Action::Verify { file, keys } = &command.action {
        return verify_offline(file, keys);
    }
    let connection = command.connection;
    let format = connection.output;
    let channel = connection.channel(COMPLIANCE).await?;
    let mut client: Client = AuditLogServiceClient::with_interceptor(channel, connection.auth());
    match command.action {
        Action::Entries {
            resource,
            actor,
            action,
            source,
            trace_id,
        } => {
            let request = pb::ListAuditEntriesRequest {
                resource,
                actor,
                action,
                source,
                trace_id,
                ..Default::default()
            };
            let entries = crate::list_all!(client, list_audit_entries, request, entries).await?;
            let listed = pb::ListAuditEntriesResponse {
                entries,
                ..Default::default()
            };
            output::listing(
                format,
                &listed,
                "procedo.compliance.v1.ListAuditEntriesResponse",
                &[
                    "SEQ", "TIME", "SOURCE", "ACTOR", "ACTION", "RESOURCE", "DETAIL",
                ],
                || listed.entries.iter().map(entry_row).collect(),
            )
        }
        Action::Get { entry } => {
            let e = client
                .get_audit_entry(pb::GetAuditEntryRequest {
                    name: seq_name(&entry),
                })
                .await?
                .into_inner();
            let actor = e.actor.clone().unwrap_or_default();
            output::record(
                format,
                &e,
                "procedo.compliance.v1.AuditEntry",
                vec![
                    ("entry", e.name.clone()),
                    (
                        "source",
                        format!(
                            "{} (its event {}, #{})",
                            e.source, e.source_event_id, e.source_seq
                        ),
                    ),
                    ("happened", time(e.source_time.as_ref())),
                    ("logged", time(e.logged_time.as_ref())),
                    (
                        "actor",
                        format!("{} ({}, {})", actor.subject, actor.name, actor.department),
                    ),
                    ("action", e.action.clone()),
                    ("resource", e.resource.clone()),
                    ("detail", e.detail.clone()),
                    ("trace", e.trace_id.clone()),
                    ("leaf hash", hex::encode(&e.leaf_hash)),
                    ("canonical", e.canonical_json.clone()),
                ],
            )
        }
        Action::Checkpoint { size, create } => {
            let c = if create {
                client
                    .create_checkpoint(pb::CreateCheckpointRequest {
                        request_id: output::request_id(),
                    })
                    .await?
                    .into_inner()
            } else {
                client
                    .get_checkpoint(pb::GetCheckpointRequest {
                        tree_size: size.unwrap_or(0),
                    })
                    .await?
                    .into_inner()
            };
            show_checkpoint(format, &c)
        }
        Action::Consistency { from, to } => {
            let proof = client
                .get_consistency_proof(pb::GetConsistencyProofRequest {
                    first_tree_size: from,
                    second_tree_size: to.unwrap_or(0),
                })
                .await?
                .into_inner();
            output::show(format, &proof, "procedo.compliance.v1.ConsistencyProof")
        }
        Action::Keys => {
            let keys = client
                .list_log_keys(pb::ListLogKeysRequest {})
                .await?
                .into_inner();
            output::listing(
                format,
                &keys,
                "procedo.compliance.v1.ListLogKeysResponse",
                &["KEY ID", "ACTIVE", "SINCE", "VERIFIER KEY"],
                || {
                    keys.keys
                        .iter()
                        .map(|k| {
                            vec![
                                k.key_id.clone(),
                                if k.active { "yes" } else { "" }.to_owned(),
                                time(k.create_time.as_ref()),
                                k.verifier.clone(),
                            ]
                        })
                        .collect()
                },
            )
        }
        Action::Check => {
            let r = client
                .verify_audit_log(pb::VerifyAuditLogRequest {})
                .await?
                .into_inner();
            if format == Format::Json {
                crate::out!(
                    "{}",
                    output::json(&r, "procedo.compliance.v1.VerifyAuditLogResponse")?
                );
            } else {
                crate::out!(
                    "{} entries and {} checkpoints checked",
                    r.entries_checked,
                    r.checkpoints_checked
                );
                for p in &r.problems {
                    crate::out!("PROBLEM {}: {}", p.entry, p.description);
                }
            }
            anyhow::ensure!(r.verified, "the audit log does not verify");
            if format == Format::Table {
                crate::out!("verified");
            }
            Ok(())
        }
        Action::Proof { entry, size, out } => {
            let proof = client
                .get_inclusion_proof(pb::GetInclusionProofRequest {
                    entry: seq_name(&entry),
                    tree_size: size.unwrap_or(0),
                })
                .await?
                .into_inner();
            let entry = proof.entry.unwrap_or_default();
            let checkpoint = proof.checkpoint.unwrap_or_default();
            let text = serde_json::json!({
                "format": PROOF_FORMAT,
                "seq": entry.seq,
                "tree_size": checkpoint.tree_size,
                "entry": entry.canonical_json,
                "hashes": proof.hashes.iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>(),
                "checkpoint": checkpoint.note,
            });
            write_out(&out, |w| {
                writeln!(w, "{}", serde_json::to_string_pretty(&text)?)?;
                Ok(())
            })
        }
        Action::Export { out } => export(&mut client, &out).await,
        Action::Verify { .. } => Ok(()),
    }
}

/// Writes through `write` to `out` (`-`: standard output); a file appears
/// only once everything was written.
fn write_out(
    out: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut file = output::OutFile::create(out)?;
    write(&mut file)?;
    file.finish()
}

async fn export(client: &mut Client, out: &Path) -> anyhow::Result<()> {
    let keys = client
        .list_log_keys(pb::ListLogKeysRequest {})
        .await?
        .into_inner()
        .keys;
    let mut checkpoints = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_checkpoints(pb::ListCheckpointsRequest {
                page_size: 500,
                page_token: token,
            })
            .await?
            .into_inner();
        checkpoints.extend(page.checkpoints);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    checkpoints.reverse();
    let origin = checkpoints
        .first()
        .map(|c| c.origin.clone())
        .unwrap_or_default();
    // The entries come page by page, oldest first, straight to the file.
    let mut lines: Vec<String> = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_audit_entries(pb::ListAuditEntriesRequest {
                page_size: 500,
                page_token: token,
                order_by: "seq".into(),
                ..Default::default()
            })
            .await?
            .into_inner();
        lines.extend(page.entries.into_iter().map(|e| e.canonical_json));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let count = lines.len();
    write_out(out, |w| {
        let header = serde_json::json!({
            "format": EXPORT_FORMAT,
            "origin": origin,
            "keys": keys.iter().map(|k| k.verifier.clone()).collect::<Vec<_>>(),
        });
        writeln!(w, "{header}")?;
        for c in &checkpoints {
            writeln!(w, "{}", serde_json::json!({ "checkpoint": c.note }))?;
        }
        for line in &lines {
            writeln!(w, "{line}")?;
        }
        Ok(())
    })?;
    if out.as_os_str() != "-" {
        eprintln!(
            "{count} entries and {} checkpoints written to {}",
            checkpoints.len(),
            out.display()
        );
    }
    Ok(())
}

fn trusted_keys(given: &[String]) -> anyhow::Result<Vec<NoteKey>> {
    given
        .iter()
        .map(|k| {
            NoteKey::parse_verifier(k).ok_or_else(|| {
                anyhow::anyhow!("--key {k:?} is not a note verifier key (name+id+key)")
            })
        })
        .collect()
}

/// The checkpoint a note signs: its size and root, read from the note.
fn signed(note_text: &str) -> anyhow::Result<Signed> {
    let split = note_text
        .rfind("\n\n")
        .ok_or_else(|| anyhow::anyhow!("a checkpoint that is not a signed note"))?;
    let c = Checkpoint::parse(&note_text[..=split])
        .ok_or_else(|| anyhow::anyhow!("a note that is not a checkpoint"))?;
    Ok(Signed {
        size: c.size,
        root: c.root,
        note: note_text.to_owned(),
    })
}

fn verify_offline(file: &Path, keys: &[String]) -> anyhow::Result<()> {
    let reader = std::io::BufReader::new(
        std::fs::File::open(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
    );
    let mut lines = reader.lines();
    let first = lines
        .next()
        .ok_or_else(|| anyhow::anyhow!("{}: empty", file.display()))??;
    // An export's first line is its header; a proof is one JSON object
    // over several lines.
    let header = serde_json::from_str::<serde_json::Value>(&first)
        .ok()
        .filter(|h| h.get("format").and_then(|f| f.as_str()) == Some(EXPORT_FORMAT));
    let Some(header) = header else {
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        let is_proof = serde_json::from_str::<serde_json::Value>(&text)
            .is_ok_and(|v| v.get("format").and_then(|f| f.as_str()) == Some(PROOF_FORMAT));
        anyhow::ensure!(
            is_proof,
            "{}: neither an audit export nor a proof",
            file.display()
        );
        return verify_proof(&text, keys);
    };
    let origin = header
        .get("origin")
        .and_then(|o| o.as_str())
        .unwrap_or_default()
        .to_owned();
    let keys = if keys.is_empty() {
        eprintln!(
            "note: checking with the keys the export carries; pass --key with the keys you trust"
        );
        header
            .get("keys")
            .and_then(|k| k.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    } else {
        keys.to_vec()
    };
    let keys = trusted_keys(&keys)?;
    let mut checkpoints = Vec::new();
    let mut check: Option<LogCheck> = None;
    let mut batch = Vec::new();
    for (n, line) in lines.enumerate() {
        let line = line?;
        if line.starts_with("{\"checkpoint\"") {
            anyhow::ensure!(
                check.is_none(),
                "line {}: a checkpoint after the entries",
                n + 2
            );
            let value: serde_json::Value = serde_json::from_str(&line)?;
            let note_text = value
                .get("checkpoint")
                .and_then(|c| c.as_str())
                .unwrap_or_default();
            checkpoints.push(signed(note_text)?);
            continue;
        }
        let check = check
            .get_or_insert_with(|| LogCheck::new(&origin, &keys, std::mem::take(&mut checkpoints)));
        let entry = Entry::from_canonical(&line)
            .ok_or_else(|| anyhow::anyhow!("line {}: not an entry in canonical form", n + 2))?;
        batch.push(entry);
        if batch.len() == 1000 {
            check.entries(&batch, None);
            batch.clear();
        }
    }
    let mut check = check.unwrap_or_else(|| LogCheck::new(&origin, &keys, checkpoints));
    check.entries(&batch, None);
    report(&check.finish(None))
}

fn report(r: &Report) -> anyhow::Result<()> {
    crate::out!(
        "{} entries and {} checkpoints checked",
        r.entries_checked,
        r.checkpoints_checked
    );
    for p in &r.problems {
        let entry = p.seq.map(|s| format!("entry {s}: ")).unwrap_or_default();
        crate::out!("PROBLEM {entry}{}", p.description);
    }
    anyhow::ensure!(r.verified(), "the audit log does not verify");
    crate::out!("verified");
    Ok(())
}

fn verify_proof(text: &str, keys: &[String]) -> anyhow::Result<()> {
    anyhow::ensure!(
        !keys.is_empty(),
        "a proof is checked against a key you trust: pass --key (from `procedo audit keys`)"
    );
    let keys = trusted_keys(keys)?;
    let v: serde_json::Value = serde_json::from_str(text)?;
    let field = |name: &str| {
        v.get(name)
            .ok_or_else(|| anyhow::anyhow!("the proof has no {name}"))
    };
    let entry_text = field("entry")?.as_str().unwrap_or_default();
    let entry = Entry::from_canonical(entry_text)
        .ok_or_else(|| anyhow::anyhow!("the proof's entry is not in canonical form"))?;
    let hashes = field("hashes")?
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("the proof's hashes are not a list"))?
        .iter()
        .map(|h| {
            let bytes = STANDARD.decode(h.as_str().unwrap_or_default())?;
            Hash::try_from(bytes.as_slice())
                .map_err(|_| anyhow::anyhow!("a hash that is not 32 bytes"))
        })
        .collect::<anyhow::Result<Vec<Hash>>>()?;
    let note_text = field("checkpoint")?.as_str().unwrap_or_default();
    let (body, key) =
        note::open(note_text, &keys).map_err(|e| anyhow::anyhow!("the checkpoint: {e}"))?;
    let checkpoint =
        Checkpoint::parse(&body).ok_or_else(|| anyhow::anyhow!("the note is not a checkpoint"))?;
    merkle::verify_inclusion(
        entry.seq,
        checkpoint.size,
        &entry.leaf_hash(),
        &hashes,
        &checkpoint.root,
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "entry {} is not proved in the checkpoint of {}: {e}",
            entry.seq,
            checkpoint.size
        )
    })?;
    crate::out!(
        "entry {} ({} on {}) is in the checkpoint of {} entries signed by {} ({})",
        entry.seq,
        entry.action,
        entry.resource,
        checkpoint.size,
        checkpoint.origin,
        key.id_hex()
    );
    crate::out!("verified");
    Ok(())
}
