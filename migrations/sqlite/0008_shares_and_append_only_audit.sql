-- Twin of the PostgreSQL migration.
CREATE TABLE document_shares (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    document_id      TEXT NOT NULL REFERENCES documents (id),
    user_id          TEXT REFERENCES users (id),
    role             TEXT CHECK (role IN ('admin', 'reviewer', 'viewer')),
    permission       TEXT NOT NULL CHECK (permission IN ('read', 'analyze', 'manage')),
    created_by       TEXT NOT NULL REFERENCES users (id),
    created_at       TEXT NOT NULL,
    CONSTRAINT document_shares_one_grantee CHECK ((user_id IS NULL) <> (role IS NULL))
);
CREATE UNIQUE INDEX document_shares_user_key ON document_shares (document_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX document_shares_role_key ON document_shares (document_id, role) WHERE role IS NOT NULL;

CREATE TRIGGER audit_logs_no_update BEFORE UPDATE ON audit_logs
BEGIN
    SELECT RAISE(ABORT, 'audit_logs rows are never updated or deleted');
END;
CREATE TRIGGER audit_logs_no_delete BEFORE DELETE ON audit_logs
BEGIN
    SELECT RAISE(ABORT, 'audit_logs rows are never updated or deleted');
END;
