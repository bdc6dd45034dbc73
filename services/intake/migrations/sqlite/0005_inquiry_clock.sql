-- The response clock of an inquiry (start, limit, pauses, due time, state)
-- as JSON; '' on older rows, whose clock is read from created_at and
-- response_due_at. response_due_at stays the clock's due time, and
-- response_state its state, for the overdue and paused filters.
ALTER TABLE inquiries ADD COLUMN response TEXT NOT NULL DEFAULT '';
ALTER TABLE inquiries ADD COLUMN response_state TEXT NOT NULL DEFAULT 'RUNNING';
UPDATE inquiries SET response_state = 'MET'
    WHERE first_response_at IS NOT NULL OR resolved_at IS NOT NULL;
DROP INDEX inquiries_unanswered;
CREATE INDEX inquiries_running ON inquiries (response_due_at) WHERE response_state = 'RUNNING';
CREATE INDEX inquiries_paused ON inquiries (id) WHERE response_state = 'PAUSED';
