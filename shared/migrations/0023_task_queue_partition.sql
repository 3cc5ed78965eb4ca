-- Owned by scheduler_svc: tasks.
-- Where a queued task's task.ready went: the partition of its topic (from its key, as the producer picks it)
-- and when. A task still queued after a later task of the same partition started was passed over: its
-- message was lost, and it is sent again whatever else runs.
ALTER TABLE tasks ADD COLUMN queue_partition int;
ALTER TABLE tasks ADD COLUMN queued_at timestamptz;
CREATE INDEX tasks_started_by_partition ON tasks (queue_partition, queued_at) WHERE queue_partition IS NOT NULL;
