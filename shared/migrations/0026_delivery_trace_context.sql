-- Owned by notifier_svc: deliveries.
-- A delivery keeps the trace context of the handler that stored it (the consumer of the job's or ingest's
-- notification.requested event): each attempt runs inside it, so the receiver's traceparent is the job's trace.
ALTER TABLE deliveries ADD COLUMN trace_context jsonb;
