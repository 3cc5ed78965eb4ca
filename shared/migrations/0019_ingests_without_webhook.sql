-- Owned by ingest_svc. Every ingest with an id is tracked to its end, webhook or not: its completion is also a
-- public event (ingest.completed@v1), so the webhook URL becomes optional.
ALTER TABLE ingests ALTER COLUMN notifications_url DROP NOT NULL;
