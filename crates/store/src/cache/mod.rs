//! The fast, ephemeral layer: Redis in server mode, an in-process map in embedded mode.
//!
//! The cache is never a source of truth, so every operation here is infallible to callers: a
//! Redis error or timeout reads as a miss and skips the write, is counted, and opens a short
//! circuit breaker so a dead or frozen Redis costs at most one timeout per breaker period.
//!
//! Freshness is kept by *generations*. Each cached value `K` has a counter `gen:K`. A reader
//! that misses remembers the generation it saw, loads from the database, and fills the cache
//! only if the generation is unchanged (an atomic compare-and-set). A writer, after its database
//! commit and before its response, increments the generation and deletes the value. So a slow
//! reader can never put a value older than a completed write back into the cache.
//!
//! Two things can still bring old values back, and both are handled in [`redis`]: a Redis that
//! restarts from a snapshot (its values *and* generations go back in time), and an
//! invalidation that could not reach Redis. The first is caught by an *epoch* tied to the Redis
//! server's run id and part of every key; the second is queued, recorded in PostgreSQL's
//! [`log`] and broadcast there, so every instance stops reading Redis until it is applied.

mod log;
mod memory;
mod redis;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rand::Rng;
use serde::Serialize;

pub use self::log::InvalidationLog;
use self::memory::MemoryCache;
use self::redis::RedisCache;

/// Tunables shared by both backends.
#[derive(Clone, Debug)]
pub struct CacheSettings {
    /// Prepended to every key (lets several deployments or tests share one Redis).
    pub key_prefix: String,
    /// Upper bound for one Redis operation; past it the operation counts as failed.
    pub op_timeout: Duration,
    /// How long Redis is skipped after a failure before it is tried again.
    pub breaker_open: Duration,
    /// TTLs are spread by ± this fraction so keys filled together do not expire together.
    pub ttl_jitter: f64,
    /// Entries the in-process backend keeps at most.
    pub memory_capacity: u64,
}

/// Counters exposed on `/readyz` and used by tests.
#[derive(Debug, Default)]
pub struct CacheCounters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    /// Operations that failed or timed out.
    pub errors: AtomicU64,
    /// Operations not sent because the breaker was open.
    pub skipped: AtomicU64,
    /// Times this process found Redis holding another epoch's data and stopped using it.
    pub epoch_changes: AtomicU64,
    /// Connections opened and verified (the first, then one per reconnection).
    pub connections: AtomicU64,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CacheStats {
    pub backend: &'static str,
    /// False while the breaker is open or invalidations are pending.
    pub available: bool,
    pub hits: u64,
    pub misses: u64,
    pub errors: u64,
    pub skipped: u64,
    pub epoch_changes: u64,
    pub connections: u64,
    pub pending_invalidations: usize,
}

/// What a fill must still find for its value to be current: the epoch of the data set the
/// lookup read from, and the key's generation in it. Its `Display` form is usable in keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generation {
    epoch: u64,
    number: u64,
}

impl std::fmt::Display for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:x}.{}", self.epoch, self.number)
    }
}

/// Result of a generation-guarded read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    Hit(Bytes),
    /// Not cached. `generation` is what a fill must still find to succeed; `None` when the cache
    /// could not be asked (then the caller must not fill).
    Miss {
        generation: Option<Generation>,
    },
}

#[derive(Clone)]
pub enum Cache {
    Redis(Arc<RedisCache>),
    Memory(Arc<MemoryCache>),
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.backend_name())
    }
}

impl Cache {
    /// The in-process backend.
    pub fn memory(settings: CacheSettings) -> Self {
        Cache::Memory(Arc::new(MemoryCache::new(settings)))
    }

    /// The Redis backend. Never fails on an unreachable server: it keeps retrying in the
    /// background and serves misses meanwhile. Fails only on a malformed URL. With a `log`,
    /// invalidations that cannot reach Redis are recorded and broadcast through PostgreSQL.
    pub fn redis(url: &str, settings: CacheSettings, log: Option<InvalidationLog>) -> anyhow::Result<Self> {
        let client = ::redis::Client::open(url).map_err(|e| anyhow::anyhow!("invalid Redis URL: {e}"))?;
        Ok(Cache::Redis(RedisCache::start(client, settings, log)))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Cache::Redis(_) => "redis",
            Cache::Memory(_) => "memory",
        }
    }

    /// Waits up to `wait` for the first connection; false if Redis was not reachable by then
    /// (the cache keeps trying in the background). The in-process backend is always ready.
    pub async fn wait_until_available(&self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if self.stats().available {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Reads `key`, and on a miss the generation of `key` that a later [`Cache::fill`] needs.
    pub async fn lookup(&self, key: &str) -> Lookup {
        let lookup = match self {
            Cache::Redis(c) => c.lookup(key).await,
            Cache::Memory(c) => c.lookup(key),
        };
        let counters = self.counters();
        match lookup {
            Lookup::Hit(_) => counters.hits.fetch_add(1, Ordering::Relaxed),
            Lookup::Miss { .. } => counters.misses.fetch_add(1, Ordering::Relaxed),
        };
        lookup
    }

    /// Stores `value` under `key` for about `ttl`, only if `key`'s generation is still
    /// `generation` (no invalidation happened since the lookup). Returns whether it stored.
    pub async fn fill(&self, key: &str, generation: Generation, value: Bytes, ttl: Duration) -> bool {
        let ttl = self.jittered(ttl);
        match self {
            Cache::Redis(c) => c.fill(key, generation, value, ttl).await,
            Cache::Memory(c) => c.fill(key, generation, value, ttl),
        }
    }

    /// Current generation of `key`; `None` if the cache is unavailable. Used as a namespace
    /// version: list pages embed it in their key.
    pub async fn generation(&self, key: &str) -> Option<Generation> {
        match self {
            Cache::Redis(c) => c.generation(key).await,
            Cache::Memory(c) => Some(c.generation(key)),
        }
    }

    /// Plain read (for keys whose freshness comes from a generation embedded in the key).
    pub async fn get(&self, key: &str) -> Option<Bytes> {
        let value = match self {
            Cache::Redis(c) => c.get(key).await,
            Cache::Memory(c) => c.get(key),
        };
        let counters = self.counters();
        if value.is_some() {
            counters.hits.fetch_add(1, Ordering::Relaxed);
        } else {
            counters.misses.fetch_add(1, Ordering::Relaxed);
        }
        value
    }

    /// Plain write with a jittered TTL.
    pub async fn set(&self, key: &str, value: Bytes, ttl: Duration) {
        let ttl = self.jittered(ttl);
        match self {
            Cache::Redis(c) => c.set(key, value, ttl).await,
            Cache::Memory(c) => c.set(key, value, ttl),
        }
    }

    /// Bumps the generation of each key and deletes it. Must run after the database commit and
    /// before the write is acknowledged. If Redis cannot take it now, it is queued (and logged
    /// for the other instances) and Redis is not read until it has been applied.
    pub async fn invalidate(&self, keys: &[String]) {
        match self {
            Cache::Redis(c) => c.invalidate(keys).await,
            Cache::Memory(c) => c.invalidate(keys),
        }
    }

    pub fn stats(&self) -> CacheStats {
        let counters = self.counters();
        let (available, pending) = match self {
            Cache::Redis(c) => (c.available(), c.pending_len()),
            Cache::Memory(_) => (true, 0),
        };
        CacheStats {
            backend: self.backend_name(),
            available,
            hits: counters.hits.load(Ordering::Relaxed),
            misses: counters.misses.load(Ordering::Relaxed),
            errors: counters.errors.load(Ordering::Relaxed),
            skipped: counters.skipped.load(Ordering::Relaxed),
            epoch_changes: counters.epoch_changes.load(Ordering::Relaxed),
            connections: counters.connections.load(Ordering::Relaxed),
            pending_invalidations: pending,
        }
    }

    fn counters(&self) -> &CacheCounters {
        match self {
            Cache::Redis(c) => &c.counters,
            Cache::Memory(c) => &c.counters,
        }
    }

    fn settings(&self) -> &CacheSettings {
        match self {
            Cache::Redis(c) => &c.settings,
            Cache::Memory(c) => &c.settings,
        }
    }

    fn jittered(&self, ttl: Duration) -> Duration {
        let jitter = self.settings().ttl_jitter.clamp(0.0, 0.5);
        if jitter == 0.0 {
            return ttl;
        }
        let factor = rand::thread_rng().gen_range(1.0 - jitter..=1.0 + jitter);
        ttl.mul_f64(factor).max(Duration::from_millis(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(ttl_jitter: f64) -> CacheSettings {
        CacheSettings {
            key_prefix: "t:".into(),
            op_timeout: Duration::from_millis(50),
            breaker_open: Duration::from_secs(1),
            ttl_jitter,
            memory_capacity: 1000,
        }
    }

    fn memory() -> Cache {
        Cache::memory(settings(0.0))
    }

    #[tokio::test]
    async fn a_fill_after_an_invalidation_is_refused() {
        let cache = memory();
        let Lookup::Miss { generation: Some(seen) } = cache.lookup("document:a").await else {
            panic!("empty cache must miss with a generation");
        };
        cache.invalidate(&["document:a".to_owned()]).await;
        let stored = cache.fill("document:a", seen, Bytes::from_static(b"old"), Duration::from_secs(60)).await;
        assert!(!stored);
        let Lookup::Miss { generation: Some(now) } = cache.lookup("document:a").await else {
            panic!("the refused fill left nothing behind");
        };
        assert_ne!(now, seen);
    }

    #[tokio::test]
    async fn a_fill_at_the_current_generation_is_served() {
        let cache = memory();
        let Some(current) = cache.generation("k").await else { panic!("the in-process cache always answers") };
        assert!(cache.fill("k", current, Bytes::from_static(b"v"), Duration::from_secs(60)).await);
        assert_eq!(cache.lookup("k").await, Lookup::Hit(Bytes::from_static(b"v")));
        assert_eq!(cache.stats().hits, 1);
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let cache = Cache::memory(settings(0.1));
        for _ in 0..1000 {
            let ttl = cache.jittered(Duration::from_secs(100));
            assert!(ttl >= Duration::from_secs(90) && ttl <= Duration::from_secs(110), "{ttl:?}");
        }
    }
}
