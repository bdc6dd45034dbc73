-- Supervision and inspection (regulation §6.1): checklist templates,
-- plans, inspections, findings, rectification notices, and the facts the
-- services report that the automatic checks read. Each record is kept
-- whole as JSON in `data`; the columns beside it are what lists filter
-- and sort on.

CREATE TABLE checklist_templates (
    id          TEXT PRIMARY KEY,
    scope       TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX checklist_templates_scope ON checklist_templates (scope, id);

CREATE TABLE inspection_plans (
    id          TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE inspections (
    id           TEXT PRIMARY KEY,
    plan_id      TEXT NOT NULL,
    department   TEXT NOT NULL,
    status       TEXT NOT NULL,
    data         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    row_version  BIGINT NOT NULL
);
CREATE INDEX inspections_department ON inspections (department, id);
CREATE INDEX inspections_plan ON inspections (plan_id, id);

CREATE TABLE findings (
    id             TEXT PRIMARY KEY,
    inspection_id  TEXT NOT NULL,
    department     TEXT NOT NULL,
    status         TEXT NOT NULL,
    data           TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    row_version    BIGINT NOT NULL
);
CREATE INDEX findings_inspection ON findings (inspection_id, id);
CREATE INDEX findings_department ON findings (department, id);

CREATE TABLE rectification_notices (
    id            TEXT PRIMARY KEY,
    department    TEXT NOT NULL,
    status        TEXT NOT NULL,
    -- The current deadline's due time while the notice is open; NULL once
    -- submitted or verified.
    due_at        BIGINT,
    escalated_at  BIGINT,
    data          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    row_version   BIGINT NOT NULL
);
CREATE INDEX rectification_notices_department ON rectification_notices (department, id);
CREATE INDEX rectification_notices_due ON rectification_notices (due_at);

-- What the services reported that the automatic checks read: one row per
-- reporting event (redelivery adds nothing).
CREATE TABLE signals (
    event_id     TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    -- The record it is about, e.g. "tasks/{id}", "documents/{id}".
    resource     TEXT NOT NULL,
    department   TEXT NOT NULL,
    occurred_at  BIGINT NOT NULL,
    -- What was reported, as the evidence of a candidate finding.
    evidence     TEXT NOT NULL
);
CREATE INDEX signals_period ON signals (kind, department, occurred_at);
CREATE INDEX signals_resource ON signals (resource, kind);
