-- Which relay holds an event's lease: a relay that restarts frees the
-- leases its earlier run held at once instead of waiting for them to lapse.
ALTER TABLE outbox ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
