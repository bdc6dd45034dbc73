-- Review rounds (§4.2): the version under review, its seats and their
-- decisions (JSON), kept for ever as the document's review history.
CREATE TABLE review_rounds (
    document_id   TEXT NOT NULL,
    round         BIGINT NOT NULL,
    version       BIGINT NOT NULL,
    status        TEXT NOT NULL,
    seats         TEXT NOT NULL,
    submitted_by  BLOB NOT NULL,
    submitted_at  BIGINT NOT NULL,
    closed_at     BIGINT,
    row_version   BIGINT NOT NULL,
    PRIMARY KEY (document_id, round)
);

-- Comments stay with the round and the version they were made on.
CREATE TABLE review_comments (
    document_id  TEXT NOT NULL,
    round        BIGINT NOT NULL,
    seq          BIGINT NOT NULL,
    version      BIGINT NOT NULL,
    aspect       TEXT NOT NULL,
    anchor       TEXT NOT NULL,
    body         TEXT NOT NULL,
    author       BLOB NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (document_id, round, seq)
);
