-- An instance's open tasks (cancelled when it ends; ListInstances' overdue
-- filter looks for them) as their own small index: without it, a planner
-- with no statistics yet for a young table may read every open task (an
-- AND of the instance index with a partial index on open tasks) to find
-- one instance's few.
CREATE INDEX tasks_open_instance ON tasks (instance_id) WHERE status = 'OPEN';
