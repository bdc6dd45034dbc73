-- Assessment (regulation §6.2): what the services report becomes facts the
-- indicators count; schemes of weighted indicators; periods computed as
-- drafts and frozen once published, each figure traceable to its facts;
-- rewards and accountability.

-- The reports of part 1 (signals) become facts: the same rows, with what
-- the indicators read beside them.
ALTER TABLE signals RENAME TO facts;
DROP INDEX signals_period;
DROP INDEX signals_resource;
-- Who the fact is about (the task's assignee, who answered), when it was
-- due, a number (a satisfaction score), an outcome (a decision), a
-- category (a step's kind, an application's type), and the series of
-- rounds it belongs to with its round (a step of an instance, its visit).
ALTER TABLE facts ADD COLUMN person TEXT NOT NULL DEFAULT '';
ALTER TABLE facts ADD COLUMN due_at BIGINT;
ALTER TABLE facts ADD COLUMN value DOUBLE PRECISION;
ALTER TABLE facts ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
ALTER TABLE facts ADD COLUMN category TEXT NOT NULL DEFAULT '';
ALTER TABLE facts ADD COLUMN series TEXT NOT NULL DEFAULT '';
ALTER TABLE facts ADD COLUMN round BIGINT NOT NULL DEFAULT 0;
CREATE INDEX facts_period ON facts (kind, occurred_at);
CREATE INDEX facts_department ON facts (kind, department, occurred_at);
CREATE INDEX facts_resource ON facts (resource, kind);
CREATE INDEX facts_series ON facts (series, round);

CREATE TABLE assessment_schemes (
    id           TEXT PRIMARY KEY,
    active       BIGINT NOT NULL,
    data         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    row_version  BIGINT NOT NULL
);

CREATE TABLE assessment_periods (
    id           TEXT PRIMARY KEY,
    scheme_id    TEXT NOT NULL,
    -- "2026-11", "2026-Q4", "2026".
    period       TEXT NOT NULL,
    status       TEXT NOT NULL,
    data         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    row_version  BIGINT NOT NULL,
    UNIQUE (scheme_id, period)
);

-- Each department's and person's figure per indicator ('' = the total);
-- `department` is the department's own code, or the one a person's facts
-- were mostly in (who of the department's heads may read it).
CREATE TABLE assessment_scores (
    period_id      TEXT NOT NULL,
    subject_kind   TEXT NOT NULL,
    subject        TEXT NOT NULL,
    department     TEXT NOT NULL,
    indicator      TEXT NOT NULL,
    value          DOUBLE PRECISION,
    count          BIGINT NOT NULL,
    score          DOUBLE PRECISION,
    manual         BIGINT NOT NULL,
    justification  TEXT NOT NULL,
    assessor       TEXT NOT NULL,
    PRIMARY KEY (period_id, subject_kind, subject, indicator)
);

-- The facts behind each computed figure: the drill-down.
CREATE TABLE assessment_inputs (
    period_id     TEXT NOT NULL,
    indicator     TEXT NOT NULL,
    subject_kind  TEXT NOT NULL,
    subject       TEXT NOT NULL,
    event_id      TEXT NOT NULL,
    PRIMARY KEY (period_id, indicator, subject_kind, subject, event_id)
);

-- Rewards and accountability (§6.2.3).
CREATE TABLE accountability_records (
    id           TEXT PRIMARY KEY,
    subject      TEXT NOT NULL,
    status       TEXT NOT NULL,
    data         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    row_version  BIGINT NOT NULL
);
CREATE INDEX accountability_records_subject ON accountability_records (subject, id);
