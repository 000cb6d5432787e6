-- Twin of the PostgreSQL migration, plus the sessions table: in embedded mode browser
-- sessions live here, with the semantics Redis gives them in server mode.
ALTER TABLE users ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN disabled_at TEXT;

CREATE TABLE memberships (
    user_id          TEXT NOT NULL REFERENCES users (id),
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    role             TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'viewer')),
    created_at       TEXT NOT NULL,
    CONSTRAINT memberships_pkey PRIMARY KEY (user_id, organisation_id)
);
CREATE INDEX memberships_org_idx ON memberships (organisation_id);
INSERT INTO memberships (user_id, organisation_id, role, created_at)
    SELECT id, organisation_id, CASE role WHEN 'admin' THEN 'admin' ELSE 'reviewer' END, created_at FROM users;

ALTER TABLE api_keys ADD COLUMN organisation_id TEXT REFERENCES organisations (id);
UPDATE api_keys SET organisation_id = (SELECT organisation_id FROM users WHERE users.id = api_keys.user_id);

CREATE TABLE invitations (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    email            TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'viewer')),
    token_hash       TEXT NOT NULL,
    invited_by       TEXT NOT NULL REFERENCES users (id),
    created_at       TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    accepted_at      TEXT,
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX invitations_org_idx ON invitations (organisation_id, id DESC);

CREATE INDEX audit_logs_org_action_idx ON audit_logs (organisation_id, action, id DESC);
CREATE INDEX audit_logs_org_actor_idx ON audit_logs (organisation_id, actor_id, id DESC);

-- Browser sessions of embedded mode: the token's SHA-256, the session as JSON, and when it
-- ends unless used again (sliding) — the absolute maximum is inside the JSON.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    data        TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
