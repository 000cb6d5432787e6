-- Twin of the PostgreSQL migration. Embedded mode has one process and an in-process cache,
-- so nothing writes here; the table keeps both schemas alike.
CREATE TABLE cache_invalidations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key_prefix  TEXT NOT NULL,
    cache_key   TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX cache_invalidations_prefix_idx ON cache_invalidations (key_prefix, id);
