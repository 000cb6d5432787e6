-- A document shared with one user or with every member of a role, for `read`, `analyze` or
-- `manage`: what a share gives adds to what the role gives on that one document.
CREATE TABLE document_shares (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    document_id      TEXT NOT NULL REFERENCES documents (id),
    user_id          TEXT REFERENCES users (id),
    role             TEXT CHECK (role IN ('admin', 'reviewer', 'viewer')),
    permission       TEXT NOT NULL CHECK (permission IN ('read', 'analyze', 'manage')),
    created_by       TEXT NOT NULL REFERENCES users (id),
    created_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT document_shares_one_grantee CHECK ((user_id IS NULL) <> (role IS NULL))
);
CREATE UNIQUE INDEX document_shares_user_key ON document_shares (document_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX document_shares_role_key ON document_shares (document_id, role) WHERE role IS NOT NULL;

-- The audit log is append-only, whoever connects: a row can be written, never changed or
-- removed.
CREATE FUNCTION audit_logs_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_logs rows are never updated or deleted';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();
