-- Owned by scheduler_svc (no table created here). Which worker process runs a task's current attempt, as its
-- task.started / task.progress events say: an operator (or a test) sees where a task is, and which host a stall
-- came from.
ALTER TABLE tasks ADD COLUMN worker_id text;
