-- Owned by ingest_svc: file_metadata.
-- The shared batch store's per-image metadata of a batch's metadata part, one JSON object
-- per staged file name. A job names the part (jobInput.imagesMetadataPart) and maps workflow inputs to keys
-- of these objects (imagesMetadataInputsMapping); the worker reads them with the task's files.
CREATE TABLE file_metadata (
    workspace_id  uuid NOT NULL,
    batch_id      text NOT NULL,
    part_name     text NOT NULL,
    file_name     text NOT NULL,
    metadata      jsonb NOT NULL,
    PRIMARY KEY (workspace_id, batch_id, part_name, file_name),
    FOREIGN KEY (workspace_id, batch_id) REFERENCES batches ON DELETE CASCADE
);
