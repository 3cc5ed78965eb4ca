-- Owned by platform: api_keys.
-- What a key may do (read < trigger < admin, each allowing what the ones before it do): existing keys keep
-- doing everything. last_used_at is kept to the minute, for the keys listing.
ALTER TABLE api_keys ADD COLUMN scope text NOT NULL DEFAULT 'admin' CHECK (scope IN ('read', 'trigger', 'admin'));
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;
