-- Each event's position among the events this service wrote: receivers
-- (the audit log) read a source's own order back from it. Numbers are
-- taken as events are written; a rolled-back transaction leaves a gap.
CREATE SEQUENCE outbox_seq;
ALTER TABLE outbox ADD COLUMN seq BIGINT NOT NULL DEFAULT nextval('outbox_seq');
