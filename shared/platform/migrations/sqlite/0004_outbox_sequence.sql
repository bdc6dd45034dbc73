-- Each event's position among the events this service wrote: receivers
-- (the audit log) read a source's own order back from it. A counter row
-- and a trigger, since SQLite has no sequences; rows are numbered in the
-- order they commit (SQLite has one writer).
CREATE TABLE outbox_sequence (last BIGINT NOT NULL);
INSERT INTO outbox_sequence (last) SELECT COALESCE(MAX(rowid), 0) FROM outbox;
ALTER TABLE outbox ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
UPDATE outbox SET seq = rowid;
CREATE TRIGGER outbox_numbered AFTER INSERT ON outbox BEGIN
    UPDATE outbox_sequence SET last = last + 1;
    UPDATE outbox SET seq = (SELECT last FROM outbox_sequence) WHERE rowid = NEW.rowid;
END;
