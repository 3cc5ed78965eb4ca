-- The scheduler samples its queues for /metrics every few seconds: keep that an index lookup.
CREATE INDEX tasks_queued ON tasks (updated_at) WHERE state = 'queued';
