-- Owned by scheduler_svc: worker_heartbeats.
-- Each worker process says every few seconds that it is alive and which task topic (machine type) it consumes
-- (worker.alive events, which the scheduler writes here). The scheduler reads it to know whether a job's
-- machine type is served at all (a gpu job on a deployment without a gpu worker must not wait forever).
CREATE TABLE worker_heartbeats (
    worker_id     text PRIMARY KEY,
    machine_type  text NOT NULL CHECK (machine_type IN ('cpu', 'gpu')),
    started_at    timestamptz NOT NULL DEFAULT now(),
    beat_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX worker_heartbeats_beat ON worker_heartbeats (machine_type, beat_at);

-- the scheduler's watchdog asks every second whether any task of a machine type is running
CREATE INDEX tasks_running ON tasks (job_id) WHERE state = 'running';
