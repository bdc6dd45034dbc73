-- Every key the service has signed with; never deleted, so old signatures
-- stay verifiable after a key is rotated.
CREATE TABLE signing_keys (
    key_id      TEXT PRIMARY KEY,
    public_key  TEXT NOT NULL,
    active      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Signatures (§4.3): the statement signed and the Ed25519 signature.
CREATE TABLE signatures (
    document_id     TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    version         BIGINT NOT NULL,
    content_sha256  TEXT NOT NULL,
    signer          BLOB NOT NULL,
    intent          TEXT NOT NULL,
    signed_at       BIGINT NOT NULL,
    key_id          TEXT NOT NULL,
    signature       TEXT NOT NULL,
    statement       TEXT NOT NULL,
    PRIMARY KEY (document_id, seq)
);
