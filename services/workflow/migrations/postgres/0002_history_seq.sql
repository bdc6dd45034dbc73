-- History positions are allocated from the instance row, so every writer of
-- an instance's history queues on that row instead of racing on MAX(seq).
ALTER TABLE instances ADD COLUMN history_seq BIGINT NOT NULL DEFAULT 0;
UPDATE instances SET history_seq =
    (SELECT COALESCE(MAX(seq), 0) FROM history WHERE history.instance_id = instances.id);
