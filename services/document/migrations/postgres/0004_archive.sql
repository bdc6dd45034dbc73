-- Archiving (§4.3): when and by whom, the retention date and the paper
-- original's place (JSON; '' before archiving), and a requested or
-- approved disposal (JSON; '' when none).
ALTER TABLE documents ADD COLUMN archive TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN disposal TEXT NOT NULL DEFAULT '';
