-- Owned by notifier_svc: webhook_signing.
-- What signs and authorises a workspace's webhooks (the Standard Webhooks secret, the
-- previous one during a rotation's grace period, the publishable key sent as the bearer token). It lived in
-- workspaces; a table of its own keeps one writer per table (workspaces belongs to the platform's auth kit).
-- A workspace made after this migration gets its row from the notifier, at its first webhook or secret read.
CREATE TABLE webhook_signing (
    workspace_id     uuid PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    secret           text NOT NULL,
    previous_secret  text,
    previous_until   timestamptz,
    publishable_key  text NOT NULL
);
INSERT INTO webhook_signing (workspace_id, secret, previous_secret, previous_until, publishable_key)
SELECT id, webhook_secret, previous_webhook_secret, previous_secret_until, publishable_key FROM workspaces;
ALTER TABLE workspaces DROP COLUMN webhook_secret, DROP COLUMN previous_webhook_secret,
    DROP COLUMN previous_secret_until, DROP COLUMN publishable_key;
