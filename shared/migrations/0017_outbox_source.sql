-- The outbox is shared by every service and any service's relay may publish a row: the row keeps which service
-- produced the event, for its CloudEvents ce_source header.
ALTER TABLE outbox ADD COLUMN source text;
