-- A task's clock (start, limit, calendar and version, pauses, due time,
-- state) as JSON; '' on older rows, whose clock is read from created_at
-- and due_at. due_at stays the clock's due time, for the overdue sweep.
ALTER TABLE tasks ADD COLUMN deadline TEXT NOT NULL DEFAULT '';
-- A failed acceptance's rectification limit as asked (`10wd`, `72h`); ''
-- when none.
ALTER TABLE tasks ADD COLUMN rectification_limit TEXT NOT NULL DEFAULT '';
