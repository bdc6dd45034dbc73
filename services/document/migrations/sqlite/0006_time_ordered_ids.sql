-- Registration-time filters read document ids, which carry the time
-- (UUIDv7): the index on created_at is no longer read.
DROP INDEX documents_created;
