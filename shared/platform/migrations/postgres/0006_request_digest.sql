-- The SHA-256 of the request a request id was first used with: a repeat
-- with other content is refused, not answered with the first response.
-- Empty for ids kept from before; those repeats are not compared.
ALTER TABLE idempotency ADD COLUMN request_digest BYTEA NOT NULL DEFAULT ''::bytea;
