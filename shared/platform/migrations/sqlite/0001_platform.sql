-- Tables every service keeps beside its own (SQLite): the outbox and its
-- attempts (src/outbox.rs), the inbox (src/inbox.rs) and request ids
-- (src/idempotency.rs).
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    destination      TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    subject          TEXT NOT NULL,
    payload          BLOB NOT NULL,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    lease_until      BIGINT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (destination, status, next_attempt_at);
CREATE INDEX outbox_subject ON outbox (destination, subject, id);

CREATE TABLE outbox_attempts (
    event_id  TEXT NOT NULL REFERENCES outbox (id),
    attempt   BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    success   BIGINT  NOT NULL,
    outcome   TEXT NOT NULL,
    PRIMARY KEY (event_id, attempt)
);

CREATE TABLE inbox (
    event_id     TEXT PRIMARY KEY,
    source       TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    received_at  BIGINT NOT NULL
);

CREATE TABLE idempotency (
    scope       TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    response    BLOB NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (scope, request_id)
);
