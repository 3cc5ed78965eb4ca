-- Owned by notifier_svc: deliveries, delivery_attempts.
-- Webhook deliveries (owned by notifier_svc) and the workspaces' publishable keys.

ALTER TABLE workspaces ADD COLUMN publishable_key text;
UPDATE workspaces SET publishable_key = 'pk_' || md5(random()::text || id::text) WHERE publishable_key IS NULL;
ALTER TABLE workspaces ALTER COLUMN publishable_key SET DEFAULT 'pk_' || md5(random()::text || clock_timestamp()::text);
ALTER TABLE workspaces ALTER COLUMN publishable_key SET NOT NULL;

CREATE TABLE deliveries (
    id                uuid PRIMARY KEY,
    workspace_id      uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    -- the notification's stable id (webhook-id): one delivery per requested notification
    event_id          text NOT NULL,
    url               text NOT NULL,
    category          text NOT NULL,
    subject_kind      text NOT NULL,
    subject_id        text NOT NULL,
    payload           jsonb NOT NULL,
    -- pending -> delivering -> delivered | failed (permanent: 4xx, unsafe URL) | dead (attempts exhausted)
    status            text NOT NULL DEFAULT 'pending',
    attempts          int NOT NULL DEFAULT 0,
    max_attempts      int NOT NULL,
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    claimed_until     timestamptz,
    last_status_code  int,
    last_error        text,
    delivered_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, event_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'delivering');
CREATE INDEX deliveries_subject ON deliveries (workspace_id, subject_kind, subject_id, created_at);

CREATE TABLE delivery_attempts (
    delivery_id   uuid NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempt       int NOT NULL,
    status_code   int,
    error         text,
    duration_ms   int NOT NULL,
    attempted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (delivery_id, attempt)
);
