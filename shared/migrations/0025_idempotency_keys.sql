-- Owned by platform: idempotency_keys.
-- (the platform kit: shared/idempotency.py) A create sent with an Idempotency-Key header, by the API key that
-- sent it: what it asked (a hash of method, path, query and body) and, once answered, the answer, replayed to
-- a retry of the same request; kept two days.
CREATE TABLE idempotency_keys (
    key_owner     bytea NOT NULL,          -- sha256 of the API key the request came with
    idem_key      text NOT NULL,
    fingerprint   bytea NOT NULL,
    status_code   int,                     -- NULL while the first request is being answered
    content_type  text,
    body          bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key_owner, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
