-- The analysis pipeline: jobs with a lease-based state machine, a dispatch outbox, and results
-- as rows (clauses, key terms, risks) beside the full review JSON. The 0001 job and result
-- tables were never written to by any release; they are replaced, not altered, because their
-- state CHECK (no `dead`) cannot be changed in place on SQLite.

DROP TABLE analysis_results;
DROP TABLE analysis_jobs;

-- Defaults an upload takes when it names no playbook or side.
ALTER TABLE organisations ADD COLUMN default_playbook TEXT NOT NULL DEFAULT 'auto';
ALTER TABLE organisations ADD COLUMN default_side TEXT;

CREATE TABLE analysis_jobs (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    document_id      TEXT NOT NULL REFERENCES documents (id),
    requested_by     TEXT REFERENCES users (id),
    playbook         TEXT NOT NULL,
    side             TEXT,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'completed', 'failed', 'dead')),
    -- Claims so far; a claim whose worker dies still counts, so a document that kills its
    -- worker every time ends `dead` after max_attempts.
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL CHECK (max_attempts >= 1),
    worker_id        TEXT,
    lease_until      TIMESTAMPTZ,
    -- Not claimed before this time (retry backoff).
    run_after        TIMESTAMPTZ NOT NULL,
    error_code       TEXT,
    error            TEXT,
    analysis_id      TEXT,
    -- Last time the job id was put on the Redis stream (the reconciler re-sends stale ones).
    dispatched_at    TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ
);
CREATE INDEX analysis_jobs_claim_idx ON analysis_jobs (run_after, id) WHERE state = 'queued';
CREATE INDEX analysis_jobs_lease_idx ON analysis_jobs (lease_until) WHERE state = 'running';
CREATE INDEX analysis_jobs_document_idx ON analysis_jobs (document_id, id DESC);

-- Jobs committed but not yet on the Redis stream: written in the job's transaction, deleted
-- once XADD succeeded, so a crash between commit and XADD loses nothing.
CREATE TABLE analysis_dispatch_outbox (
    job_id      TEXT PRIMARY KEY REFERENCES analysis_jobs (id),
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE analyses (
    id                  TEXT PRIMARY KEY,
    organisation_id     TEXT NOT NULL REFERENCES organisations (id),
    document_id         TEXT NOT NULL REFERENCES documents (id),
    job_id              TEXT NOT NULL REFERENCES analysis_jobs (id),
    engine_name         TEXT NOT NULL,
    engine_version      TEXT NOT NULL,
    classifier          TEXT NOT NULL,
    llm_model           TEXT,
    playbook            TEXT NOT NULL,
    side                TEXT,
    format              TEXT NOT NULL,
    -- JSON, not JSONB: kept and served verbatim (it is read whole, never queried inside).
    review              JSON NOT NULL,
    processing_time_ms  BIGINT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    -- A second run of the same job writes no second result.
    CONSTRAINT analyses_job_id_key UNIQUE (job_id)
);
CREATE INDEX analyses_document_idx ON analyses (document_id, id DESC);
CREATE INDEX analyses_org_idx ON analyses (organisation_id, id DESC);

ALTER TABLE documents ADD COLUMN latest_analysis_id TEXT REFERENCES analyses (id);

CREATE TABLE analysis_clauses (
    analysis_id      TEXT NOT NULL REFERENCES analyses (id),
    ordinal          INTEGER NOT NULL,
    organisation_id  TEXT NOT NULL,
    document_id      TEXT NOT NULL,
    category         TEXT NOT NULL,
    start_offset     BIGINT NOT NULL,
    end_offset       BIGINT NOT NULL,
    page             INTEGER,
    section          TEXT,
    confidence       REAL NOT NULL,
    PRIMARY KEY (analysis_id, ordinal)
);
CREATE INDEX analysis_clauses_org_category_idx ON analysis_clauses (organisation_id, category, analysis_id);

-- One row per analysis: the key terms in typed columns.
CREATE TABLE analysis_terms (
    analysis_id               TEXT PRIMARY KEY REFERENCES analyses (id),
    organisation_id           TEXT NOT NULL,
    document_id               TEXT NOT NULL,
    agreement_date            DATE,
    effective_date            DATE,
    expiration_date           DATE,
    perpetual                 BOOLEAN NOT NULL,
    initial_term_days         INTEGER,
    renewal_term_days         INTEGER,
    auto_renewal              BOOLEAN NOT NULL,
    non_renewal_notice_days   INTEGER,
    -- expiration_date minus the notice of non-renewal: the last day to give notice.
    non_renewal_deadline      DATE,
    termination_notice_days   INTEGER,
    governing_law             TEXT,
    venue                     TEXT,
    liability_cap_amount      NUMERIC(20, 2),
    liability_cap_currency    TEXT,
    liability_cap_months      INTEGER,
    payment_terms_days        INTEGER,
    non_compete_days          INTEGER,
    parties                   JSONB NOT NULL
);
CREATE INDEX analysis_terms_org_law_idx ON analysis_terms (organisation_id, lower(governing_law));
CREATE INDEX analysis_terms_org_deadline_idx ON analysis_terms (organisation_id, non_renewal_deadline);

CREATE TABLE analysis_risks (
    analysis_id      TEXT NOT NULL REFERENCES analyses (id),
    ordinal          INTEGER NOT NULL,
    organisation_id  TEXT NOT NULL,
    document_id      TEXT NOT NULL,
    rule             TEXT NOT NULL,
    severity         TEXT NOT NULL CHECK (severity IN ('high', 'medium', 'low')),
    title            TEXT NOT NULL,
    citation_start   BIGINT,
    citation_end     BIGINT,
    citation_page    INTEGER,
    PRIMARY KEY (analysis_id, ordinal)
);
CREATE INDEX analysis_risks_org_rule_idx ON analysis_risks (organisation_id, rule, severity);
