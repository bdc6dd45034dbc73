-- Application types name the department that handles them; accepted
-- applications follow the workflow instance running their process.
ALTER TABLE application_types ADD COLUMN handling_department TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN process_instance TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN stage TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN progress_seq BIGINT NOT NULL DEFAULT 0;
