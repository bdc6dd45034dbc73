-- The directory of people and departments (imported, and kept current
-- from the tokens of those who act).

CREATE TABLE people (
    subject       TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    title         TEXT NOT NULL,
    department    TEXT NOT NULL,
    -- JSON list of role names.
    roles         TEXT NOT NULL,
    source        TEXT NOT NULL,
    active        BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX people_department ON people (department, subject);

CREATE TABLE departments (
    code          TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    head          TEXT NOT NULL,
    parent        TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);
