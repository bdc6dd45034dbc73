-- Intake's schema (PostgreSQL). Times are epoch milliseconds UTC, ids UUIDv7
-- text, money minor units, flags 0/1; see shared/platform/src/db.rs.

CREATE TABLE inquiries (
    id                 TEXT PRIMARY KEY,
    channel            TEXT NOT NULL,
    customer_name      TEXT NOT NULL,
    customer_phone     TEXT NOT NULL,
    customer_email     TEXT NOT NULL,
    subject            TEXT NOT NULL,
    body               TEXT NOT NULL,
    status             TEXT NOT NULL,
    department         TEXT NOT NULL,
    specialist         TEXT NOT NULL,
    response_due_at    BIGINT NOT NULL,
    first_response_at  BIGINT,
    resolved_at        BIGINT,
    satisfaction       BIGINT  NOT NULL,
    created_by         BYTEA NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    version            BIGINT NOT NULL
);
CREATE INDEX inquiries_unanswered ON inquiries (response_due_at)
    WHERE first_response_at IS NULL AND resolved_at IS NULL;

CREATE TABLE inquiry_entries (
    inquiry_id     TEXT NOT NULL REFERENCES inquiries (id),
    seq            BIGINT NOT NULL,
    kind           TEXT NOT NULL,
    body           TEXT NOT NULL,
    customer_need  TEXT NOT NULL,
    department     TEXT NOT NULL,
    specialist     TEXT NOT NULL,
    from_status    TEXT NOT NULL,
    to_status      TEXT NOT NULL,
    actor          BYTEA NOT NULL,
    at             BIGINT NOT NULL,
    PRIMARY KEY (inquiry_id, seq)
);

CREATE TABLE application_types (
    code                 TEXT PRIMARY KEY,
    display_name         TEXT NOT NULL,
    in_scope             BIGINT  NOT NULL,
    materials            TEXT NOT NULL,
    processing_limit_ms  BIGINT NOT NULL,
    process_key          TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    version              BIGINT NOT NULL
);

-- One row per year; incremented inside the submitting transaction, so a
-- rolled-back submission gives its number back and the sequence has no gaps.
CREATE TABLE ledger_counters (
    year        BIGINT  PRIMARY KEY,
    last_value  BIGINT NOT NULL
);

CREATE TABLE applications (
    id                     TEXT PRIMARY KEY,
    ledger_number          TEXT NOT NULL UNIQUE,
    type_code              TEXT NOT NULL REFERENCES application_types (code),
    applicant_name         TEXT NOT NULL,
    applicant_organisation TEXT NOT NULL,
    applicant_phone        TEXT NOT NULL,
    applicant_email        TEXT NOT NULL,
    title                  TEXT NOT NULL,
    description            TEXT NOT NULL,
    amount_currency        TEXT,
    amount_minor           BIGINT,
    materials              TEXT NOT NULL,
    checklist              TEXT NOT NULL,
    status                 TEXT NOT NULL,
    missing_materials      TEXT NOT NULL,
    correction_items       TEXT NOT NULL,
    rejection_reason       TEXT NOT NULL,
    rejection_explanation  TEXT NOT NULL,
    submitted_by           BYTEA NOT NULL,
    submitted_at           BIGINT NOT NULL,
    due_at                 BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    version                BIGINT NOT NULL
);
CREATE INDEX applications_submitted ON applications (submitted_at);
CREATE INDEX applications_status ON applications (status, ledger_number);

CREATE TABLE application_history (
    application_id  TEXT NOT NULL REFERENCES applications (id),
    seq             BIGINT NOT NULL,
    from_status     TEXT NOT NULL,
    to_status       TEXT NOT NULL,
    action          TEXT NOT NULL,
    reason          TEXT NOT NULL,
    actor           BYTEA NOT NULL,
    at              BIGINT NOT NULL,
    PRIMARY KEY (application_id, seq)
);
