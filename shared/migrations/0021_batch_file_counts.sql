-- A batch's file count, kept with the batch: counting the rows on every GET .../count grew with the
-- batch (22 ms of index scan at 100,000 files, bench.scale). insert_files adds what it inserted in the same
-- statement; files leave only with their batch (expiry), so the count never goes down.
ALTER TABLE batches ADD COLUMN files_count bigint NOT NULL DEFAULT 0;
UPDATE batches b SET files_count = (SELECT count(*) FROM files f
                                    WHERE f.workspace_id = b.workspace_id AND f.batch_id = b.batch_id);
