-- Owned by ingest_svc: ingests.
-- An ingest (one ingestId) may span many shards: a reference list is split into chunks
-- of references_per_shard, and a CLI upload of a folder into tars of 256 images. The unique key is therefore
-- (ingest id, chunk number), not the ingest id alone; chunk 0 still guards against two concurrent requests
-- creating the same ingest.
DROP INDEX shards_ingest_id;
ALTER TABLE shards ADD COLUMN ingest_part int NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX shards_ingest_part ON shards (workspace_id, batch_id, ingest_id, kind, ingest_part)
    WHERE ingest_id IS NOT NULL AND kind <> 'tar';
-- until when the signed upload link of an awaiting-upload shard is valid: until then the shard may still
-- bring files into its batch, so jobs and ingest notifications wait for it
ALTER TABLE shards ADD COLUMN link_expires_at timestamptz;
CREATE INDEX shards_open ON shards (workspace_id, batch_id) WHERE status IN ('awaiting-upload', 'uploaded', 'indexing');

-- One row per ingest with a webhook: its ingest-status notification is sent once, when every shard that
-- may belong to it has finished (the row is locked while that is decided, so two indexers finishing the
-- last two shards cannot both miss it).
CREATE TABLE ingests (
    workspace_id             uuid NOT NULL,
    batch_id                 text NOT NULL,
    ingest_id                text NOT NULL,
    notifications_url        text NOT NULL,
    notification_categories  text[] NOT NULL DEFAULT '{}',
    notified_at              timestamptz,
    created_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, batch_id, ingest_id),
    FOREIGN KEY (workspace_id, batch_id) REFERENCES batches ON DELETE CASCADE
);
CREATE INDEX ingests_pending ON ingests (workspace_id, batch_id) WHERE notified_at IS NULL;
