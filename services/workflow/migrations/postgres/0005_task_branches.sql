-- ListTasks reads each alternative a caller may see as one index range in
-- id order (see store::list_tasks): by assignee, by department and by
-- delegator over every status, and the open ones (a small part of a large
-- table) through partial indexes of their own.
DROP INDEX tasks_assignee;
CREATE INDEX tasks_assignee ON tasks (assignee, id);
DROP INDEX tasks_department;
CREATE INDEX tasks_department ON tasks (department, id);
CREATE INDEX tasks_delegated_by ON tasks (delegated_by, id);
CREATE INDEX tasks_open_assignee ON tasks (assignee, id) WHERE status = 'OPEN';
CREATE INDEX tasks_open_department ON tasks (department, id) WHERE status = 'OPEN';
-- A role's unclaimed open tasks by department: a work queue reads each
-- (role, department) it may act on as one range.
DROP INDEX tasks_open_unclaimed;
CREATE INDEX tasks_open_unclaimed ON tasks (role, department, id) WHERE status = 'OPEN' AND assignee = '';
