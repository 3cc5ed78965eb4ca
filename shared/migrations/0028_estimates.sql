-- Owned by scheduler_svc: jobs, tasks.
-- An estimate is a real, small job (purpose 'estimate'): its processing stage runs a sample of the batch and it
-- is never exported. A sampled video's task runs only its first sample_seconds (NULL: every frame).
ALTER TABLE jobs ADD COLUMN purpose text NOT NULL DEFAULT 'run';
ALTER TABLE tasks ADD COLUMN sample_seconds double precision;
