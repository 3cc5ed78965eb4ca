-- Owned by scheduler_svc (no table created here). How a task's models ran, as its task.done event says
-- (model id, sha256, runtime, precision, device): the job's metadata names them, so fp32 and bf16 results can
-- be told apart.
ALTER TABLE tasks ADD COLUMN inference jsonb;
