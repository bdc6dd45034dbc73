-- A progress note may be shared with the customer (§2.1: feed progress
-- back); 1 when it was sent to them.
ALTER TABLE inquiry_entries ADD COLUMN shared_with_customer BIGINT NOT NULL DEFAULT 0;
