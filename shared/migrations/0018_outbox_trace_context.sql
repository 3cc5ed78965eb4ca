-- The outbox row keeps the trace context (W3C traceparent / tracestate) of the request or handler that wrote
-- the event, so the relay publishes it inside that trace (shared/tracing.py).
ALTER TABLE outbox ADD COLUMN trace_context jsonb;
