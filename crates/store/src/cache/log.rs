//! The cache invalidation log: invalidations that could not reach Redis, recorded in
//! PostgreSQL and announced with `NOTIFY`, so that every instance (not only the one that
//! queued them) stops reading Redis until they are applied, and any instance that can reach
//! Redis applies them. PostgreSQL is the channel because it is the store the write has just
//! committed to: it is reachable whenever an invalidation is owed.

use std::sync::Weak;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;

use super::redis::RedisCache;
use crate::db::{Database, Pool};

const CHANNEL: &str = "cr_cache_invalidation";

/// Entries recorded at most per invalidation (a write invalidates a handful of keys).
const MAX_KEYS_PER_RECORD: usize = 64;

#[derive(Clone)]
pub struct InvalidationLog {
    pool: PgPool,
    /// Instances with another key prefix share the database but not the cached keys.
    key_prefix: String,
}

impl InvalidationLog {
    /// The log of a PostgreSQL database; `None` on SQLite (one process, nothing to tell).
    pub fn new(db: &Database, key_prefix: &str) -> Option<Self> {
        match &db.pool {
            Pool::Postgres(pool) => Some(Self { pool: pool.clone(), key_prefix: key_prefix.to_owned() }),
            Pool::Sqlite(_) => None,
        }
    }

    /// Records `keys` and notifies every listening instance, in one transaction.
    pub(super) async fn record(&self, keys: &[String]) -> sqlx::Result<()> {
        let keys: Vec<&str> = keys.iter().take(MAX_KEYS_PER_RECORD).map(String::as_str).collect();
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO cache_invalidations (key_prefix, cache_key) SELECT $1, unnest($2::text[])")
            .bind(&self.key_prefix)
            .bind(&keys)
            .execute(&mut *tx)
            .await?;
        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(&self.key_prefix).execute(&mut *tx).await?;
        tx.commit().await
    }

    /// The oldest unapplied entries, as (id, key).
    pub(super) async fn pending(&self, limit: i64) -> sqlx::Result<Vec<(i64, String)>> {
        sqlx::query_as("SELECT id, cache_key FROM cache_invalidations WHERE key_prefix = $1 ORDER BY id LIMIT $2")
            .bind(&self.key_prefix)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
    }

    /// Removes exactly the entries applied (not a range: ids commit out of order).
    pub(super) async fn remove(&self, ids: &[i64]) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM cache_invalidations WHERE id = ANY($1)").bind(ids).execute(&self.pool).await?;
        Ok(())
    }

    /// Listens for announcements; a lost connection counts as one (messages may have been
    /// missed), so the cache reads the log again. Ends when the cache or the pool goes.
    pub(super) fn spawn_listener(&self, cache: Weak<RedisCache>) {
        let log = self.clone();
        tokio::spawn(async move {
            let mut listener = None;
            loop {
                if cache.strong_count() == 0 || log.pool.is_closed() {
                    return;
                }
                let current = match listener.as_mut() {
                    Some(current) => current,
                    None => match log.listen().await {
                        Ok(fresh) => {
                            if let Some(cache) = cache.upgrade() {
                                cache.heard_from_log();
                            }
                            listener.insert(fresh)
                        }
                        Err(err) => {
                            tracing::debug!(error = %err, "cannot listen for cache invalidations yet");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            continue;
                        }
                    },
                };
                // Wakes up now and then to notice that the cache was dropped.
                let received = tokio::time::timeout(Duration::from_secs(1), current.try_recv()).await;
                let heard = match received {
                    Err(_) => false,
                    Ok(Ok(Some(notification))) => notification.payload() == log.key_prefix,
                    Ok(Ok(None)) => true,
                    Ok(Err(sqlx::Error::PoolClosed)) => return,
                    Ok(Err(err)) => {
                        tracing::debug!(error = %err, "cache invalidation listener lost its connection");
                        listener = None;
                        true
                    }
                };
                if heard {
                    match cache.upgrade() {
                        Some(cache) => cache.heard_from_log(),
                        None => return,
                    }
                }
            }
        });
    }

    async fn listen(&self) -> sqlx::Result<PgListener> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(listener)
    }
}
