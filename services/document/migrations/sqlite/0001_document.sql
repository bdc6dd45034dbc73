-- The document service's tables (regulation §4).

-- Categories (§4.1): the numbering rule and what their documents need.
CREATE TABLE categories (
    code                     TEXT PRIMARY KEY,
    display_name             TEXT NOT NULL,
    number_pattern           TEXT NOT NULL,
    number_reset             TEXT NOT NULL,
    default_confidentiality  BIGINT NOT NULL,
    retention_years          BIGINT NOT NULL,
    required_signatures      TEXT NOT NULL,
    created_at               BIGINT NOT NULL,
    updated_at               BIGINT NOT NULL,
    version                  BIGINT NOT NULL
);

-- The last number given per category, period ('' when numbers never
-- restart) and department ('' when the pattern does not name it). Taken in
-- the registering transaction: concurrent registrations queue on the row,
-- a rollback returns the number, so numbers are distinct and gap-free.
CREATE TABLE number_counters (
    category    TEXT NOT NULL,
    period      TEXT NOT NULL,
    department  TEXT NOT NULL,
    last_seq    BIGINT NOT NULL,
    PRIMARY KEY (category, period, department)
);

-- Documents. confidentiality: 0 public, 1 internal, 2 confidential,
-- 3 secret. A voided document keeps its row and its number for ever.
CREATE TABLE documents (
    id                 TEXT PRIMARY KEY,
    number             TEXT NOT NULL UNIQUE,
    title              TEXT NOT NULL,
    category           TEXT NOT NULL,
    owning_department  TEXT NOT NULL,
    confidentiality    BIGINT NOT NULL,
    tags               TEXT NOT NULL,
    related            TEXT NOT NULL,
    grantees           TEXT NOT NULL,
    author             BLOB NOT NULL,
    status             TEXT NOT NULL,
    void_reason        TEXT NOT NULL,
    current_version    BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    version            BIGINT NOT NULL
);
CREATE INDEX documents_category ON documents (category, id);
CREATE INDEX documents_department ON documents (owning_department, id);
CREATE INDEX documents_status ON documents (status, id);
CREATE INDEX documents_created ON documents (created_at, id);

-- What lists filter by, one row each, so every filter is an index lookup.
CREATE TABLE document_tags (
    tag          TEXT NOT NULL,
    document_id  TEXT NOT NULL,
    PRIMARY KEY (tag, document_id)
);
CREATE TABLE document_related (
    resource     TEXT NOT NULL,
    document_id  TEXT NOT NULL,
    PRIMARY KEY (resource, document_id)
);
CREATE TABLE document_words (
    word         TEXT NOT NULL,
    document_id  TEXT NOT NULL,
    PRIMARY KEY (word, document_id)
);
CREATE TABLE document_grantees (
    document_id  TEXT NOT NULL,
    subject      TEXT NOT NULL,
    PRIMARY KEY (document_id, subject)
);
CREATE INDEX document_grantees_subject ON document_grantees (subject, document_id);

-- Immutable versions; the content is in the blob store under its SHA-256.
CREATE TABLE versions (
    document_id     TEXT NOT NULL,
    version         BIGINT NOT NULL,
    content_sha256  TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    media_type      TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    change_summary  TEXT NOT NULL,
    author          BLOB NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (document_id, version)
);
CREATE INDEX versions_content ON versions (content_sha256);
