-- Accounts: a user has a password (Argon2id, PHC string) and may be disabled; what a user may
-- do in an organisation is a membership with a role. `users.organisation_id` stays the user's
-- home organisation (where a login lands); `users.role` is superseded by memberships and no
-- longer read. An API key belongs to one organisation as well as to its user.
ALTER TABLE users ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;

CREATE TABLE memberships (
    user_id          TEXT NOT NULL REFERENCES users (id),
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    role             TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'viewer')),
    created_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT memberships_pkey PRIMARY KEY (user_id, organisation_id)
);
CREATE INDEX memberships_org_idx ON memberships (organisation_id);
INSERT INTO memberships (user_id, organisation_id, role, created_at)
    SELECT id, organisation_id, CASE role WHEN 'admin' THEN 'admin' ELSE 'reviewer' END, created_at FROM users;

ALTER TABLE api_keys ADD COLUMN organisation_id TEXT REFERENCES organisations (id);
UPDATE api_keys SET organisation_id = (SELECT organisation_id FROM users WHERE users.id = api_keys.user_id);

-- An invitation: a one-time token (stored as its SHA-256) that creates a member when accepted.
CREATE TABLE invitations (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    email            TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'viewer')),
    token_hash       TEXT NOT NULL,
    invited_by       TEXT NOT NULL REFERENCES users (id),
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    accepted_at      TIMESTAMPTZ,
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX invitations_org_idx ON invitations (organisation_id, id DESC);

CREATE INDEX audit_logs_org_action_idx ON audit_logs (organisation_id, action, id DESC);
CREATE INDEX audit_logs_org_actor_idx ON audit_logs (organisation_id, actor_id, id DESC);
