-- Workflow's schema (PostgreSQL). Times are epoch milliseconds UTC, ids UUIDv7
-- text, flags 0/1 BIGINT, lists and small records JSON text, actors and
-- definitions encoded protobuf; see shared/platform/src/db.rs.

CREATE TABLE definitions (
    key           TEXT NOT NULL,
    version       BIGINT NOT NULL,
    display_name  TEXT NOT NULL,
    body          BYTEA NOT NULL,
    deployed_by   BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (key, version)
);

CREATE TABLE matrices (
    version       BIGINT PRIMARY KEY,
    effective_at  BIGINT NOT NULL,
    body          BYTEA NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE instances (
    id                     TEXT PRIMARY KEY,
    definition_key         TEXT NOT NULL,
    definition_version     BIGINT NOT NULL,
    business_key           TEXT NOT NULL UNIQUE,
    -- The service whose event started it; progress events go back there.
    origin                 TEXT NOT NULL,
    business_type          TEXT NOT NULL,
    amount_currency        TEXT,
    amount_minor           BIGINT,
    title                  TEXT NOT NULL,
    status                 TEXT NOT NULL,
    initiator_department   TEXT NOT NULL,
    initiator              BYTEA NOT NULL,
    form                   TEXT NOT NULL,
    participants           TEXT NOT NULL,
    approval_chain         TEXT NOT NULL,
    matrix_version         BIGINT NOT NULL,
    plan_document          TEXT NOT NULL,
    acceptance_report      TEXT NOT NULL,
    acceptance_signatures  TEXT NOT NULL,
    cancel_reason          TEXT NOT NULL,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    ended_at               BIGINT,
    version                BIGINT NOT NULL
);
CREATE INDEX instances_status ON instances (status, id);

CREATE TABLE tasks (
    id                      TEXT PRIMARY KEY,
    instance_id             TEXT,
    meeting_id              TEXT,
    step                    TEXT NOT NULL,
    visit                   BIGINT NOT NULL,
    kind                    TEXT NOT NULL,
    title                   TEXT NOT NULL,
    content                 TEXT NOT NULL,
    standard                TEXT NOT NULL,
    role                    TEXT NOT NULL,
    department              TEXT NOT NULL,
    approval_level          BIGINT NOT NULL,
    chain_index             BIGINT NOT NULL,
    assignee                TEXT NOT NULL,
    delegated_by            TEXT NOT NULL,
    status                  TEXT NOT NULL,
    due_at                  BIGINT NOT NULL,
    overdue_at              BIGINT,
    escalated_at            BIGINT,
    decision                TEXT NOT NULL,
    opinion                 TEXT NOT NULL,
    signature               TEXT NOT NULL,
    document                TEXT NOT NULL,
    requirements            TEXT NOT NULL,
    rectification_deadline  BIGINT,
    prior_opinions          TEXT NOT NULL,
    created_at              BIGINT NOT NULL,
    completed_at            BIGINT,
    version                 BIGINT NOT NULL
);
CREATE INDEX tasks_instance ON tasks (instance_id, step, visit);
CREATE INDEX tasks_open_due ON tasks (status, due_at);
CREATE INDEX tasks_department ON tasks (department, status, id);
CREATE INDEX tasks_assignee ON tasks (assignee, status, id);

-- Every transition of every instance, forever (WatchInstance reads it).
CREATE TABLE history (
    instance_id  TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    action       TEXT NOT NULL,
    step         TEXT NOT NULL,
    decision     TEXT NOT NULL,
    opinion      TEXT NOT NULL,
    detail       TEXT NOT NULL,
    actor        BYTEA NOT NULL,
    task_id      TEXT NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (instance_id, seq)
);

CREATE TABLE coordination_items (
    id                      TEXT PRIMARY KEY,
    instance_id             TEXT,
    meeting_id              TEXT,
    problem                 TEXT NOT NULL,
    responsible_department  TEXT NOT NULL,
    resolution              TEXT NOT NULL,
    resolved                BIGINT NOT NULL,
    raised_by               BYTEA NOT NULL,
    created_at              BIGINT NOT NULL,
    resolved_at             BIGINT
);
CREATE INDEX coordination_instance ON coordination_items (instance_id);
CREATE INDEX coordination_meeting ON coordination_items (meeting_id);

CREATE TABLE supervision_records (
    id           TEXT PRIMARY KEY,
    instance_id  TEXT NOT NULL,
    department   TEXT NOT NULL,
    findings     TEXT NOT NULL,
    supervisor   BYTEA NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX supervision_instance ON supervision_records (instance_id);

CREATE TABLE meetings (
    id            TEXT PRIMARY KEY,
    department    TEXT NOT NULL,
    title         TEXT NOT NULL,
    held_at       BIGINT NOT NULL,
    attendees     TEXT NOT NULL,
    progress      TEXT NOT NULL,
    problems      TEXT NOT NULL,
    action_items  TEXT NOT NULL,
    recorded_by   BYTEA NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX meetings_department ON meetings (department, id);
