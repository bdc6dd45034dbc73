-- Time limits may be working time on the company's calendar (§2.2): the
-- limit as its text (`5wd`, `8wh`, `3days`); '' on older rows, whose limit
-- is the elapsed processing_limit_ms.
ALTER TABLE application_types ADD COLUMN processing_limit TEXT NOT NULL DEFAULT '';
-- The processing clock (start, limit, pauses, due time, state) as JSON;
-- '' on older rows, whose clock is read from submitted_at and due_at.
-- due_at stays the clock's due time.
ALTER TABLE applications ADD COLUMN processing TEXT NOT NULL DEFAULT '';
