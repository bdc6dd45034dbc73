//! Checking a stored audit log against itself: every entry is hashed
//! again, the tree rebuilt from those hashes and compared, node by node,
//! with the stored one and, at each checkpoint, with the signed root. What
//! does not match is named — the entry when it can be told, else the
//! range between the last checkpoint that held and the first that did not.
//!
//! The same check runs on the server (`VerifyAuditLog`) and offline on an
//! export (`procedo audit verify`), which has no stored nodes.

use std::collections::{HashMap, VecDeque};

use super::entry::Entry;
use super::merkle::{Frontier, Hash, NodeId};
use super::note::{self, Checkpoint, NoteKey};

/// At most this many problems are reported; the first ones matter.
pub const MAX_PROBLEMS: usize = 50;

/// Something that does not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The first entry concerned.
    pub seq: Option<u64>,
    /// The checkpoint concerned, by size.
    pub checkpoint: Option<u64>,
    pub description: String,
}

/// A checkpoint to hold the rebuilt tree to: its size, root and note.
#[derive(Debug, Clone)]
pub struct Signed {
    pub size: u64,
    pub root: Hash,
    pub note: String,
}

/// The outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub entries_checked: u64,
    pub checkpoints_checked: u64,
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn verified(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A check in progress: fed the entries in order.
#[derive(Debug)]
pub struct LogCheck {
    frontier: Frontier,
    checkpoints: VecDeque<Signed>,
    /// The size of the last checkpoint that held.
    last_good: u64,
    report: Report,
}

impl LogCheck {
    /// Starts a check of the log named `origin` against `checkpoints`
    /// (any order), whose notes must be signed by one of `keys`.
    pub fn new(origin: &str, keys: &[NoteKey], checkpoints: Vec<Signed>) -> LogCheck {
        let mut check = LogCheck {
            frontier: Frontier::default(),
            checkpoints: VecDeque::new(),
            last_good: 0,
            report: Report::default(),
        };
        let mut checkpoints = checkpoints;
        checkpoints.sort_by_key(|c| c.size);
        for c in checkpoints {
            match note::open(&c.note, keys) {
                Ok((body, _)) => {
                    let read = Checkpoint::parse(&body);
                    let expected = Checkpoint {
                        origin: origin.to_owned(),
                        size: c.size,
                        root: c.root,
                    };
                    if read.as_ref() != Some(&expected) {
                        check.problem(
                            None,
                            Some(c.size),
                            format!(
                                "checkpoint {} says something else than its signed note",
                                c.size
                            ),
                        );
                    }
                }
                Err(e) => check.problem(
                    None,
                    Some(c.size),
                    format!("checkpoint {}'s note does not verify: {e}", c.size),
                ),
            }
            check.checkpoints.push_back(c);
        }
        // The empty tree's checkpoint is held to the empty root at once.
        check.reach_checkpoints();
        check
    }

    fn problem(&mut self, seq: Option<u64>, checkpoint: Option<u64>, description: String) {
        if self.report.problems.len() < MAX_PROBLEMS {
            self.report.problems.push(Problem {
                seq,
                checkpoint,
                description,
            });
        }
    }

    /// Checks the next `entries` (in order of `seq`) against the stored
    /// nodes they complete (`stored`; `None` offline, where none are).
    pub fn entries(&mut self, entries: &[Entry], stored: Option<&HashMap<NodeId, Hash>>) {
        for e in entries {
            let expected = self.frontier.size();
            if e.seq != expected {
                self.problem(
                    Some(expected),
                    None,
                    if e.seq > expected {
                        format!("entries {expected} to {} are missing", e.seq - 1)
                    } else {
                        format!("entry {} appears twice", e.seq)
                    },
                );
                // Go on from here, so later problems are still named.
                if e.seq < expected {
                    continue;
                }
                while self.frontier.size() < e.seq {
                    self.frontier.push([0; 32]);
                }
            }
            let leaf = e.leaf_hash();
            for (id, hash) in self.frontier.push(leaf) {
                let Some(stored) = stored else { break };
                match stored.get(&id) {
                    Some(s) if *s == hash => {}
                    Some(_) if id.level == 0 => self.problem(
                        Some(e.seq),
                        None,
                        format!("entry {} does not hash to its stored leaf: it was changed after it was appended", e.seq),
                    ),
                    Some(_) => {
                        let first = id.index << id.level;
                        self.problem(
                            Some(first),
                            None,
                            format!(
                                "the stored tree node over entries {first} to {} does not match them",
                                e.seq
                            ),
                        );
                    }
                    None => self.problem(
                        Some(e.seq),
                        None,
                        if id.level == 0 {
                            format!("entry {} has no stored leaf: it was not appended by the log", e.seq)
                        } else {
                            format!("the tree node completed by entry {} is missing", e.seq)
                        },
                    ),
                }
            }
            self.report.entries_checked += 1;
            self.reach_checkpoints();
        }
    }

    /// Holds every checkpoint of the size read so far to the root.
    fn reach_checkpoints(&mut self) {
        while let Some(c) = self.checkpoints.front() {
            if c.size != self.frontier.size() {
                break;
            }
            let c = self.checkpoints.pop_front().expect("a checkpoint");
            self.report.checkpoints_checked += 1;
            if c.root == self.frontier.root() {
                self.last_good = c.size;
            } else {
                self.problem(
                    Some(self.last_good),
                    Some(c.size),
                    format!(
                        "checkpoint {} does not match the entries: one of entries {} to {} was changed, removed or inserted",
                        c.size,
                        self.last_good,
                        c.size.saturating_sub(1)
                    ),
                );
            }
        }
    }

    /// Ends the check of a log whose head counts `size` entries (`None`
    /// offline).
    pub fn finish(mut self, size: Option<u64>) -> Report {
        let read = self.frontier.size();
        while let Some(c) = self.checkpoints.pop_front() {
            self.report.checkpoints_checked += 1;
            self.problem(
                Some(read),
                Some(c.size),
                format!(
                    "checkpoint {} is larger than the {read} entries stored: entries were removed",
                    c.size
                ),
            );
        }
        if let Some(size) = size
            && size != read
        {
            self.problem(
                Some(read.min(size)),
                None,
                if size > read {
                    format!("the log counts {size} entries but {read} are stored: entries {read} to {} were removed", size - 1)
                } else {
                    format!("{read} entries are stored but the log counts {size}: entries {size} to {} were inserted", read - 1)
                },
            );
        }
        self.report
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::domain::entry::EntryActor;
    use crate::domain::merkle;

    const ORIGIN: &str = "procedo.test/audit";

    fn entries(n: u64) -> Vec<Entry> {
        (0..n)
            .map(|seq| Entry {
                seq,
                source: "procedo.intake".into(),
                source_event_id: format!("e{seq}"),
                source_seq: seq + 1,
                source_time_ms: 1_000 + seq as i64,
                logged_at_ms: 2_000 + seq as i64,
                actor: EntryActor {
                    subject: "li".into(),
                    ..Default::default()
                },
                action: "intake.inquiries.create".into(),
                resource: format!("inquiries/{seq}"),
                detail: String::new(),
                trace_id: String::new(),
            })
            .collect()
    }

    /// The stored shape of `entries` and signed checkpoints at `sizes`.
    fn log(entries: &[Entry], sizes: &[u64]) -> (HashMap<NodeId, Hash>, Vec<Signed>, Vec<NoteKey>) {
        let key = SigningKey::from_bytes(&[3; 32]);
        let leaves: Vec<Hash> = entries.iter().map(Entry::leaf_hash).collect();
        let nodes: HashMap<NodeId, Hash> = merkle::append(0, &[], &leaves).into_iter().collect();
        let signed = sizes
            .iter()
            .map(|&size| {
                let root = merkle::root(size, &|id| nodes[&id]);
                let body = Checkpoint {
                    origin: ORIGIN.into(),
                    size,
                    root,
                }
                .body();
                Signed {
                    size,
                    root,
                    note: note::sign(&body, ORIGIN, &key),
                }
            })
            .collect();
        let keys = vec![NoteKey {
            name: ORIGIN.into(),
            public: key.verifying_key(),
        }];
        (nodes, signed, keys)
    }

    fn run(
        entries: &[Entry],
        nodes: &HashMap<NodeId, Hash>,
        signed: Vec<Signed>,
        keys: &[NoteKey],
        size: u64,
    ) -> Report {
        let mut check = LogCheck::new(ORIGIN, keys, signed);
        for batch in entries.chunks(7) {
            check.entries(batch, Some(nodes));
        }
        check.finish(Some(size))
    }

    #[test]
    fn an_untouched_log_verifies() {
        let all = entries(40);
        let (nodes, signed, keys) = log(&all, &[0, 1, 16, 33, 40]);
        let report = run(&all, &nodes, signed, &keys, 40);
        assert!(report.verified(), "{report:?}");
        assert_eq!(
            (report.entries_checked, report.checkpoints_checked),
            (40, 5)
        );
    }

    #[test]
    fn a_changed_entry_is_named() {
        let mut all = entries(40);
        let (nodes, signed, keys) = log(&all, &[16, 40]);
        all[21].detail = "nothing happened".into();
        let report = run(&all, &nodes, signed, &keys, 40);
        assert_eq!(report.problems[0].seq, Some(21), "{report:?}");
        assert!(
            report.problems[0]
                .description
                .contains("entry 21 does not hash")
        );
    }

    #[test]
    fn a_change_with_every_stored_hash_rewritten_is_caught_by_the_checkpoints() {
        let mut all = entries(40);
        let (_, signed, keys) = log(&all, &[16, 24, 40]);
        all[21].detail = "nothing happened".into();
        // The forger rewrote the stored tree to match; only the signed
        // checkpoints remain to tell.
        let (forged, _, _) = log(&all, &[]);
        let report = run(&all, &forged, signed, &keys, 40);
        let first = &report.problems[0];
        assert_eq!(
            (first.seq, first.checkpoint),
            (Some(16), Some(24)),
            "{report:?}"
        );
    }

    #[test]
    fn removed_and_inserted_entries_are_named() {
        let all = entries(40);
        let (nodes, signed, keys) = log(&all, &[40]);
        let mut removed = all.clone();
        removed.remove(12);
        let report = run(&removed, &nodes, signed.clone(), &keys, 40);
        assert_eq!(report.problems[0].seq, Some(12), "{report:?}");
        assert!(
            report.problems[0]
                .description
                .contains("entries 12 to 12 are missing")
        );

        let mut last_removed = all.clone();
        last_removed.pop();
        let report = run(&last_removed, &nodes, signed.clone(), &keys, 40);
        assert_eq!(report.problems[0].seq, Some(39), "{report:?}");

        let mut inserted = all;
        let mut extra = entries(41).pop().expect("one more");
        extra.detail = "slipped in".into();
        inserted.push(extra);
        let report = run(&inserted, &nodes, signed, &keys, 40);
        assert_eq!(report.problems[0].seq, Some(40), "{report:?}");
    }

    #[test]
    fn a_checkpoint_not_signed_by_the_log_fails() {
        let all = entries(8);
        let (nodes, mut signed, keys) = log(&all, &[8]);
        signed[0].note = signed[0].note.replacen("\n8\n", "\n9\n", 1);
        let report = run(&all, &nodes, signed, &keys, 8);
        assert_eq!(report.problems[0].checkpoint, Some(8), "{report:?}");
        assert!(report.problems[0].description.contains("does not verify"));
    }
}
