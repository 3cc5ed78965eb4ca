-- Owned by platform: workspaces, api_keys, outbox.
-- (the platform kit: shared/auth.py writes workspaces and keys, shared/outbox.py the outbox)
-- Workspaces, API keys and the transactional outbox.

CREATE TABLE workspaces (
    id              uuid PRIMARY KEY,
    slug            text NOT NULL UNIQUE,
    name            text NOT NULL,
    -- secret used to sign webhooks of this workspace (Standard Webhooks, "whsec_" + base64)
    webhook_secret  text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    workspace_id  uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    -- sha256 of the key: the key itself is shown once and never stored
    key_hash      bytea NOT NULL UNIQUE,
    key_prefix    text NOT NULL,
    label         text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id);

-- Events written in the same transaction as the state they describe, relayed to Kafka after commit.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    topic         text NOT NULL,
    message_key   text NOT NULL,
    event_type    text NOT NULL,
    event_id      text NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
