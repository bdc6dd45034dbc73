-- The calendar an application type's processing limit counts on; '' for
-- the company's default.
ALTER TABLE application_types ADD COLUMN calendar TEXT NOT NULL DEFAULT '';
