-- Cache invalidations that could not reach Redis, kept until an instance applies them
-- (see cr_store::cache::log). Rows live seconds; the table is empty while Redis is healthy.
CREATE TABLE cache_invalidations (
    id          BIGSERIAL PRIMARY KEY,
    key_prefix  TEXT NOT NULL,
    cache_key   TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX cache_invalidations_prefix_idx ON cache_invalidations (key_prefix, id);
