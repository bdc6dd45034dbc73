-- What the retention sweep deletes by: delivered events, received event
-- ids and request ids, each by age.
CREATE INDEX outbox_delivered ON outbox (created_at) WHERE status = 'delivered';
CREATE INDEX inbox_received ON inbox (received_at);
CREATE INDEX idempotency_created ON idempotency (created_at);
