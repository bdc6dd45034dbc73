-- When an inquiry's response deadline or an application's processing time
-- limit passed and was reported to the compliance service (once each):
-- NULL until then. An inquiry answered after its deadline is reported too
-- (had the timer not seen it running late).
ALTER TABLE inquiries ADD COLUMN overdue_reported_at BIGINT;
ALTER TABLE applications ADD COLUMN overdue_reported_at BIGINT;
CREATE INDEX inquiries_unreported ON inquiries (response_due_at)
    WHERE response_state = 'RUNNING' AND overdue_reported_at IS NULL;
CREATE INDEX inquiries_answered_late ON inquiries (response_due_at)
    WHERE response_state = 'MET' AND overdue_reported_at IS NULL
    AND COALESCE(first_response_at, resolved_at) > response_due_at;
CREATE INDEX applications_unreported ON applications (due_at)
    WHERE status IN ('PENDING_REVIEW', 'ACCEPTED', 'IN_PROGRESS') AND overdue_reported_at IS NULL;
