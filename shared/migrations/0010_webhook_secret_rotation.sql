-- Webhook signing material (read and rotated by notifier_svc; moved to its own table by 0011). After a rotation the previous secret keeps
-- signing beside the new one until previous_secret_until, so receivers can switch without losing a webhook
-- (Standard Webhooks carries several signatures in one header).
ALTER TABLE workspaces ADD COLUMN previous_webhook_secret text;
ALTER TABLE workspaces ADD COLUMN previous_secret_until timestamptz;
