-- The compliance service's audit log (regulation §1.3.4): one append-only
-- log of every service's audit records, kept as a Merkle tree (RFC 9162).

-- One row: how many entries the log has. Appending takes this row first,
-- so appends queue on it and entries are numbered without gaps;
-- last_logged_at keeps logged times from going backwards.
CREATE TABLE audit_head (
    id              BIGINT PRIMARY KEY,
    size            BIGINT NOT NULL,
    last_logged_at  BIGINT NOT NULL
);
INSERT INTO audit_head (id, size, last_logged_at) VALUES (1, 0, 0);

-- The entries, by position. What the leaf hash is taken over is the
-- canonical JSON of these columns (see src/domain/entry.rs).
CREATE TABLE audit_entries (
    seq               BIGINT PRIMARY KEY,
    source            TEXT NOT NULL,
    source_event_id   TEXT NOT NULL UNIQUE,
    source_seq        BIGINT NOT NULL,
    source_time       BIGINT NOT NULL,
    logged_at         BIGINT NOT NULL,
    actor_subject     TEXT NOT NULL,
    actor_name        TEXT NOT NULL,
    actor_department  TEXT NOT NULL,
    action            TEXT NOT NULL,
    resource          TEXT NOT NULL,
    detail            TEXT NOT NULL,
    trace_id          TEXT NOT NULL
);
-- What auditors look entries up by, each read newest first.
CREATE INDEX audit_entries_resource ON audit_entries (resource, seq);
CREATE INDEX audit_entries_actor ON audit_entries (actor_subject, seq);
CREATE INDEX audit_entries_action ON audit_entries (action, seq);
CREATE INDEX audit_entries_source ON audit_entries (source, source_seq);
CREATE INDEX audit_entries_trace ON audit_entries (trace_id, seq);
CREATE INDEX audit_entries_time ON audit_entries (source_time, seq);

-- The tree's perfect subtrees: node (level, idx) is the hash of entries
-- idx * 2^level … (idx + 1) * 2^level - 1; level 0 holds the leaf hashes.
CREATE TABLE audit_nodes (
    level  BIGINT NOT NULL,
    idx    BIGINT NOT NULL,
    hash   BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Signed tree heads (C2SP checkpoint notes), one per size.
CREATE TABLE audit_checkpoints (
    tree_size   BIGINT PRIMARY KEY,
    root_hash   BLOB NOT NULL,
    note        TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Every key checkpoints were signed with, as note verifier keys.
CREATE TABLE audit_keys (
    key_id      TEXT PRIMARY KEY,
    verifier    TEXT NOT NULL,
    active      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
