-- Owned by ingest_svc: batches, batch_parts, shards, files, failed_files.
-- (batches, batch_parts and files are the shared batch store, shared/staging.py, which job output batches are
-- written through too; shards and failed files are ingest's own, ingest_svc/repository.py)
-- Data staging (owned by ingest_svc): batches, their parts, ingest shards, files and failed files.

CREATE TABLE batches (
    workspace_id      uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    batch_id          text NOT NULL,
    display_name      text NOT NULL,
    batch_type        text NOT NULL CHECK (batch_type IN ('simple-batch', 'sharded-batch', 'multipart-batch')),
    content_type      text NOT NULL,
    -- the job that produced this batch, for output batches
    produced_by_job   text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, batch_id)
);
CREATE INDEX batches_listing ON batches (workspace_id, created_at DESC, batch_id);
CREATE INDEX batches_expiry ON batches (expires_at);

CREATE TABLE batch_parts (
    workspace_id         uuid NOT NULL,
    batch_id             text NOT NULL,
    part_name            text NOT NULL,
    part_type            text NOT NULL,
    content_type         text NOT NULL,
    nested_content_type  text,
    description          text,
    PRIMARY KEY (workspace_id, batch_id, part_name),
    FOREIGN KEY (workspace_id, batch_id) REFERENCES batches ON DELETE CASCADE
);

-- An ingest unit: one uploaded tar, one chunk of references, one video upload.
CREATE TABLE shards (
    workspace_id             uuid NOT NULL,
    batch_id                 text NOT NULL,
    shard_id                 text NOT NULL,
    ingest_id                text,
    kind                     text NOT NULL CHECK (kind IN ('tar', 'image-references', 'video-references', 'video')),
    -- awaiting-upload -> uploaded -> indexing -> indexed | failed
    status                   text NOT NULL,
    source_key               text NOT NULL,
    file_name                text,
    objects_count            int NOT NULL DEFAULT 0,
    failed_count             int NOT NULL DEFAULT 0,
    error                    text,
    notifications_url        text,
    notification_categories  text[] NOT NULL DEFAULT '{}',
    -- indexing lease: a crashed indexer's claim expires and another takes the shard over
    claimed_until            timestamptz,
    attempts                 int NOT NULL DEFAULT 0,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, batch_id, shard_id),
    FOREIGN KEY (workspace_id, batch_id) REFERENCES batches ON DELETE CASCADE
);
CREATE INDEX shards_pending ON shards (updated_at) WHERE status IN ('uploaded', 'indexing');
CREATE UNIQUE INDEX shards_ingest_id ON shards (workspace_id, batch_id, ingest_id, kind)
    WHERE ingest_id IS NOT NULL AND kind <> 'tar';

CREATE TABLE files (
    seq                  bigserial,
    workspace_id         uuid NOT NULL,
    batch_id             text NOT NULL,
    -- '' for batches without parts
    part_name            text NOT NULL DEFAULT '',
    file_name            text NOT NULL,
    shard_id             text,
    content_type         text NOT NULL,
    nested_content_type  text,
    size_bytes           bigint NOT NULL,
    object_key           text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, batch_id, part_name, file_name),
    FOREIGN KEY (workspace_id, batch_id) REFERENCES batches ON DELETE CASCADE
);
CREATE UNIQUE INDEX files_seq ON files (workspace_id, batch_id, seq);

CREATE TABLE failed_files (
    workspace_id  uuid NOT NULL,
    batch_id      text NOT NULL,
    shard_id      text NOT NULL,
    file_name     text NOT NULL,
    failure_type  text NOT NULL,
    reason        text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (workspace_id, batch_id) REFERENCES batches ON DELETE CASCADE
);
CREATE INDEX failed_files_shard ON failed_files (workspace_id, batch_id, shard_id);
