-- API keys a user manages: a name, scopes (comma-separated: read, analyze, admin), an optional
-- expiry and when the key was last used. Existing keys keep every scope they had.
ALTER TABLE api_keys ADD COLUMN name TEXT NOT NULL DEFAULT 'default';
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read,analyze,admin';
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_keys ADD COLUMN last_used_at TIMESTAMPTZ;
CREATE INDEX api_keys_user_idx ON api_keys (user_id);
