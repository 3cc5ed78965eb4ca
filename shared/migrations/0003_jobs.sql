-- Owned by scheduler_svc: workflows, models, jobs, job_stages, tasks, job_logs, machine_usage.
-- Workflows and models (owned by scheduler_svc), jobs, stages, tasks and logs.

CREATE TABLE workflows (
    workspace_id   uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    workflow_id    text NOT NULL,
    specification  jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, workflow_id)
);

-- workspace_id NULL: a model every workspace can use (the pre-registered default detector)
CREATE TABLE models (
    workspace_id  uuid REFERENCES workspaces(id) ON DELETE CASCADE,
    model_id      text NOT NULL,
    task          text NOT NULL CHECK (task IN ('object-detection', 'classification')),
    layout        text NOT NULL,
    class_names   jsonb NOT NULL,
    input_size    int NOT NULL,
    object_key    text NOT NULL,
    sha256        text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (workspace_id, model_id)
);

CREATE TABLE jobs (
    workspace_id         uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    job_id               text NOT NULL,
    name                 text NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('images', 'videos')),
    definition           jsonb NOT NULL,
    -- the workflow as it was when the job was created: later edits do not change a running job
    workflow             jsonb NOT NULL,
    input_batch_id       text NOT NULL,
    input_part_name      text,
    -- processing -> exporting -> succeeded | failed | aborted
    state                text NOT NULL,
    reason               text,
    machine_type         text NOT NULL,
    workers_per_machine  int NOT NULL,
    timeout_s            int NOT NULL,
    max_parallel_tasks   int NOT NULL,
    max_failure_rate     double precision,
    notifications_url    text,
    runtime_s            double precision NOT NULL DEFAULT 0,
    restart_overrides    jsonb NOT NULL DEFAULT '[]',
    last_notification    jsonb,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, job_id)
);
CREATE INDEX jobs_listing ON jobs (workspace_id, created_at DESC, job_id);
CREATE INDEX jobs_active ON jobs (state) WHERE state IN ('processing', 'exporting');

CREATE TABLE job_stages (
    workspace_id     uuid NOT NULL,
    job_id           text NOT NULL,
    stage_id         text NOT NULL,
    stage_name       text NOT NULL,
    position         int NOT NULL,
    output_batch_id  text NOT NULL,
    -- pending -> running -> succeeded | failed | aborted
    state            text NOT NULL,
    notification     jsonb NOT NULL DEFAULT '{}',
    started_at       timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, job_id, stage_id),
    FOREIGN KEY (workspace_id, job_id) REFERENCES jobs ON DELETE CASCADE
);

-- A task is a contiguous range of the input batch's files (by their ingest sequence number), so a
-- million-file job is planned with one INSERT ... SELECT and a constant amount of memory.
CREATE TABLE tasks (
    workspace_id     uuid NOT NULL,
    job_id           text NOT NULL,
    stage_id         text NOT NULL,
    task_id          text NOT NULL,
    seq_from         bigint NOT NULL,
    seq_to           bigint NOT NULL,
    files_count      int NOT NULL,
    -- pending -> queued -> running -> succeeded | failed | aborted
    state            text NOT NULL DEFAULT 'pending',
    attempt          int NOT NULL DEFAULT 0,
    progress         double precision,
    files_processed  int NOT NULL DEFAULT 0,
    files_failed     int NOT NULL DEFAULT 0,
    runtime_s        double precision NOT NULL DEFAULT 0,
    machine_type     text,
    error            text,
    started_at       timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, job_id, stage_id, task_id),
    FOREIGN KEY (workspace_id, job_id) REFERENCES jobs ON DELETE CASCADE
);
CREATE INDEX tasks_dispatch ON tasks (workspace_id, job_id, stage_id, state);

CREATE TABLE job_logs (
    id                bigserial PRIMARY KEY,
    workspace_id      uuid NOT NULL,
    job_id            text NOT NULL,
    stage_id          text,
    task_id           text,
    severity          text NOT NULL CHECK (severity IN ('info', 'warning', 'error')),
    reporting_module  text NOT NULL,
    log_type          text NOT NULL,
    payload           jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (workspace_id, job_id) REFERENCES jobs ON DELETE CASCADE
);
CREATE INDEX job_logs_job ON job_logs (workspace_id, job_id, id);

-- Billed machine time: one row per finished task attempt.
CREATE TABLE machine_usage (
    workspace_id  uuid NOT NULL,
    job_id        text NOT NULL,
    task_id       text NOT NULL,
    attempt       int NOT NULL,
    machine_type  text NOT NULL,
    seconds       double precision NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, job_id, task_id, attempt)
);
