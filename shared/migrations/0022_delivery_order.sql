-- Owned by notifier_svc: deliveries.
-- Deliveries of one subject (a job, a batch) to one URL go out in the order they were stored: seq numbers
-- them (created_at is the same for every row of one transaction), and a delivery waits while an earlier one
-- of its subject and URL is still pending or being delivered.
ALTER TABLE deliveries ADD COLUMN seq bigserial;
CREATE INDEX deliveries_open_by_subject ON deliveries (workspace_id, subject_kind, subject_id, url, seq)
    WHERE status IN ('pending', 'delivering');
