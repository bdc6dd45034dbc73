-- The deadline sweep reads only open tasks not yet marked overdue: its own
-- index, so the tasks it marked before are not read again on every sweep.
CREATE INDEX tasks_unmarked_due ON tasks (due_at, id) WHERE status = 'OPEN' AND overdue_at IS NULL;
-- A role's unclaimed open tasks (ListTasks for a role holder), without the
-- closed ones that were never claimed.
CREATE INDEX tasks_open_unclaimed ON tasks (role, id) WHERE status = 'OPEN' AND assignee = '';
