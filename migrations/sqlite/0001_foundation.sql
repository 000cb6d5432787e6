-- SQLite twin of migrations/postgres/0001. Foundation schema: identity, documents, analysis jobs/results, audit, relations, idempotency.
-- Ids are prefixed, time-ordered text (`doc_<uuidv7>`), so `ORDER BY id DESC` is newest first
-- and the id doubles as the keyset cursor.

CREATE TABLE organisations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE users (
    id                 TEXT PRIMARY KEY,
    organisation_id    TEXT NOT NULL REFERENCES organisations (id),
    email              TEXT NOT NULL,
    role               TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    is_platform_admin  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         TEXT NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    key_hash    TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT,
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);

CREATE TABLE documents (
    id                 TEXT PRIMARY KEY,
    organisation_id    TEXT NOT NULL REFERENCES organisations (id),
    owner_id           TEXT NOT NULL REFERENCES users (id),
    filename           TEXT NOT NULL,
    original_filename  TEXT NOT NULL,
    stored_path        TEXT NOT NULL,
    size_bytes         BIGINT NOT NULL CHECK (size_bytes >= 0),
    media_type         TEXT NOT NULL,
    sha256             TEXT NOT NULL,
    status             TEXT NOT NULL,
    metadata           TEXT NOT NULL DEFAULT '{}',
    version            BIGINT NOT NULL DEFAULT 1,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    deleted_at         TEXT
);
-- The same content uploaded twice into one organisation is one document.
CREATE UNIQUE INDEX documents_org_sha256_live_key ON documents (organisation_id, sha256) WHERE deleted_at IS NULL;
CREATE INDEX documents_org_page_idx ON documents (organisation_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX documents_org_status_page_idx ON documents (organisation_id, status, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX documents_org_contract_type_idx ON documents (organisation_id, lower(metadata ->> 'contract_type')) WHERE deleted_at IS NULL;
CREATE INDEX documents_org_client_idx ON documents (organisation_id, lower(metadata ->> 'client')) WHERE deleted_at IS NULL;

CREATE TABLE analysis_jobs (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    document_id      TEXT NOT NULL REFERENCES documents (id),
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_until      TEXT,
    error            TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX analysis_jobs_pending_idx ON analysis_jobs (state, created_at) WHERE state IN ('queued', 'running');
CREATE INDEX analysis_jobs_document_idx ON analysis_jobs (document_id);

CREATE TABLE analysis_results (
    id                  TEXT PRIMARY KEY,
    job_id              TEXT NOT NULL REFERENCES analysis_jobs (id),
    organisation_id     TEXT NOT NULL REFERENCES organisations (id),
    document_id         TEXT NOT NULL REFERENCES documents (id),
    engine_version      TEXT NOT NULL,
    model_used          TEXT,
    data                TEXT NOT NULL,
    processing_time_ms  BIGINT NOT NULL,
    created_at          TEXT NOT NULL,
    CONSTRAINT analysis_results_job_id_key UNIQUE (job_id)
);
CREATE INDEX analysis_results_document_idx ON analysis_results (document_id);

CREATE TABLE audit_logs (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT REFERENCES organisations (id),
    actor_id         TEXT REFERENCES users (id),
    action           TEXT NOT NULL,
    target_type      TEXT NOT NULL,
    target_id        TEXT,
    details          TEXT NOT NULL DEFAULT '{}',
    created_at       TEXT NOT NULL
);
CREATE INDEX audit_logs_org_idx ON audit_logs (organisation_id, id DESC);
CREATE INDEX audit_logs_target_idx ON audit_logs (target_id);

CREATE TABLE document_relations (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    source_id        TEXT NOT NULL REFERENCES documents (id),
    target_id        TEXT NOT NULL REFERENCES documents (id),
    kind             TEXT NOT NULL CHECK (kind IN ('amends', 'supersedes', 'sow_of', 'duplicate_of')),
    created_by       TEXT NOT NULL REFERENCES users (id),
    created_at       TEXT NOT NULL,
    CONSTRAINT document_relations_unique_key UNIQUE (source_id, target_id, kind),
    CONSTRAINT document_relations_not_self CHECK (source_id <> target_id)
);
CREATE INDEX document_relations_target_idx ON document_relations (target_id);

-- Responses to POSTs made with an Idempotency-Key, stored in the transaction of the write.
CREATE TABLE idempotency_keys (
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    key              TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    status_code      INTEGER NOT NULL,
    response_body    TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (organisation_id, key)
);
