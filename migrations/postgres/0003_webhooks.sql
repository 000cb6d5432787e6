-- Webhooks per organisation: endpoints, and every delivery of every event to each, written in
-- the transaction of the change the event reports (so none is lost) and retried from here.

CREATE TABLE webhook_endpoints (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    url              TEXT NOT NULL,
    -- `whsec_` + base64 of the HMAC key, as the Standard Webhooks specification writes it.
    secret           TEXT NOT NULL,
    -- Space-separated event types this endpoint receives.
    events           TEXT NOT NULL,
    created_by       TEXT REFERENCES users (id),
    created_at       TIMESTAMPTZ NOT NULL,
    disabled_at      TIMESTAMPTZ
);
CREATE INDEX webhook_endpoints_org_idx ON webhook_endpoints (organisation_id) WHERE disabled_at IS NULL;

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id),
    organisation_id  TEXT NOT NULL REFERENCES organisations (id),
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_status      INTEGER,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    delivered_at     TIMESTAMPTZ
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id DESC);
