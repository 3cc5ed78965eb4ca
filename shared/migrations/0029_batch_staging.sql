-- Owned by ingest_svc: batches, shards.
-- Whether a batch may still receive files, kept on the batch itself (the shared batch store) by ingest, so that
-- no other service reads ingest's private shards: shards_open counts its shards uploaded or being indexed,
-- links_open_until is the latest expiry of the upload links of its shards still awaiting an upload. A batch is
-- sealed when shards_open = 0 and no such link is valid any more.
ALTER TABLE batches ADD COLUMN shards_open int NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN links_open_until timestamptz;

UPDATE batches b SET
    shards_open = (SELECT count(*) FROM shards s WHERE s.workspace_id = b.workspace_id AND s.batch_id = b.batch_id
                   AND s.status IN ('uploaded', 'indexing')),
    links_open_until = (SELECT max(s.link_expires_at) FROM shards s WHERE s.workspace_id = b.workspace_id
                        AND s.batch_id = b.batch_id AND s.status = 'awaiting-upload');

-- Kept by a trigger, so that no path that changes a shard can forget it. The batch row is locked first: each
-- statement of a PL/pgSQL function then counts with a snapshot taken after the lock, so two shards of one batch
-- changing at once count each other (a count taken before the lock could miss the other's committed change).
CREATE FUNCTION batch_staging_follows_shards() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM batches WHERE workspace_id = NEW.workspace_id AND batch_id = NEW.batch_id FOR UPDATE;
    UPDATE batches SET
        shards_open = (SELECT count(*) FROM shards WHERE workspace_id = NEW.workspace_id
                       AND batch_id = NEW.batch_id AND status IN ('uploaded', 'indexing')),
        links_open_until = (SELECT max(link_expires_at) FROM shards WHERE workspace_id = NEW.workspace_id
                            AND batch_id = NEW.batch_id AND status = 'awaiting-upload')
    WHERE workspace_id = NEW.workspace_id AND batch_id = NEW.batch_id;
    RETURN NULL;
END $$;

CREATE TRIGGER shards_inserted AFTER INSERT ON shards
    FOR EACH ROW EXECUTE FUNCTION batch_staging_follows_shards();
CREATE TRIGGER shards_changed AFTER UPDATE OF status, link_expires_at ON shards
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.link_expires_at IS DISTINCT FROM NEW.link_expires_at)
    EXECUTE FUNCTION batch_staging_follows_shards();
