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
//! reader can never put a value older than a completed write back into the cache. When an
//! invalidation cannot reach Redis, it is queued, and Redis is not read again until the queue
//! has been applied.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::Rng;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;

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

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            key_prefix: "cr:".into(),
            op_timeout: Duration::from_millis(50),
            breaker_open: Duration::from_secs(1),
            ttl_jitter: 0.1,
            memory_capacity: 100_000,
        }
    }
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
    pub pending_invalidations: usize,
}

/// Result of a generation-guarded read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    Hit(Bytes),
    /// Not cached. `generation` is what a fill must still find to succeed; `None` when the cache
    /// could not be asked (then the caller must not fill).
    Miss {
        generation: Option<u64>,
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
    /// background and serves misses meanwhile. Fails only on a malformed URL.
    pub fn redis(url: &str, settings: CacheSettings) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).map_err(|e| anyhow::anyhow!("invalid Redis URL: {e}"))?;
        let cache = Arc::new(RedisCache::new(client, settings));
        RedisCache::spawn_maintenance(&cache);
        Ok(Cache::Redis(cache))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Cache::Redis(_) => "redis",
            Cache::Memory(_) => "memory",
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
    pub async fn fill(&self, key: &str, generation: u64, value: Bytes, ttl: Duration) -> bool {
        let ttl = self.jittered(ttl);
        match self {
            Cache::Redis(c) => c.fill(key, generation, value, ttl).await,
            Cache::Memory(c) => c.fill(key, generation, value, ttl),
        }
    }

    /// Current generation of `key` (0 when never invalidated); `None` if the cache is unavailable.
    /// Used as a namespace version: list pages embed it in their key.
    pub async fn generation(&self, key: &str) -> Option<u64> {
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
    /// before the write is acknowledged. If Redis cannot take it now, it is queued and Redis
    /// is not read until the queue is applied.
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

fn generation_key(key: &str) -> String {
    format!("gen:{key}")
}

// ---------------------------------------------------------------------------------------------
// Redis

/// Sets KEYS[1] = ARGV[2] (PX ARGV[3]) only if the generation KEYS[2] still equals ARGV[1].
const FILL_SCRIPT: &str = r"
local g = redis.call('GET', KEYS[2])
if (g or '0') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0";

pub struct RedisCache {
    client: redis::Client,
    connection: RwLock<Option<ConnectionManager>>,
    settings: CacheSettings,
    counters: CacheCounters,
    started: Instant,
    /// Milliseconds since `started` before which Redis is not tried.
    open_until_ms: AtomicU64,
    /// Invalidations that could not be applied yet (full, prefixed keys).
    pending: Mutex<HashSet<String>>,
    has_pending: AtomicBool,
    fill_script: redis::Script,
}

impl RedisCache {
    fn new(client: redis::Client, settings: CacheSettings) -> Self {
        Self {
            client,
            connection: RwLock::new(None),
            settings,
            counters: CacheCounters::default(),
            started: Instant::now(),
            open_until_ms: AtomicU64::new(0),
            pending: Mutex::new(HashSet::new()),
            has_pending: AtomicBool::new(false),
            fill_script: redis::Script::new(FILL_SCRIPT),
        }
    }

    /// Connects in the background, then keeps applying queued invalidations. Holds only a weak
    /// reference, so the task ends when the cache is dropped.
    fn spawn_maintenance(this: &Arc<Self>) {
        let weak = Arc::downgrade(this);
        tokio::spawn(async move {
            loop {
                let Some(cache) = weak.upgrade() else { return };
                cache.maintain().await;
                drop(cache);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
    }

    async fn maintain(&self) {
        if self.current_connection().is_none() {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(self.settings.op_timeout.max(Duration::from_millis(200)))
                .set_response_timeout(self.settings.op_timeout.max(Duration::from_millis(200)))
                .set_number_of_retries(1);
            let attempt = tokio::time::timeout(
                Duration::from_secs(2),
                ConnectionManager::new_with_config(self.client.clone(), config),
            )
            .await;
            match attempt {
                Ok(Ok(manager)) => {
                    tracing::info!("connected to Redis");
                    if let Ok(mut slot) = self.connection.write() {
                        *slot = Some(manager);
                    }
                }
                Ok(Err(err)) => tracing::debug!(error = %err, "Redis not reachable yet"),
                Err(_) => tracing::debug!("Redis connection attempt timed out"),
            }
        }
        if self.has_pending.load(Ordering::Acquire) {
            self.flush_pending().await;
        }
    }

    fn current_connection(&self) -> Option<ConnectionManager> {
        self.connection.read().ok().and_then(|slot| slot.clone())
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// True when reads and fills may go to Redis.
    fn available(&self) -> bool {
        !self.has_pending.load(Ordering::Acquire)
            && self.now_ms() >= self.open_until_ms.load(Ordering::Relaxed)
            && self.connection.read().is_ok_and(|slot| slot.is_some())
    }

    fn pending_len(&self) -> usize {
        self.pending.lock().map(|p| p.len()).unwrap_or(0)
    }

    fn trip(&self, what: &str, err: &dyn std::fmt::Display) {
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        let until = self.now_ms() + self.settings.breaker_open.as_millis() as u64;
        let previous = self.open_until_ms.swap(until, Ordering::Relaxed);
        if previous <= self.now_ms() {
            tracing::warn!(operation = what, error = %err, "Redis failed; serving from the database");
        }
    }

    /// Runs one command against Redis within the operation timeout; `None` on any failure.
    async fn run<T: redis::FromRedisValue>(&self, what: &str, build: impl FnOnce() -> redis::Cmd) -> Option<T> {
        if !self.available() {
            self.counters.skipped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let mut connection = self.current_connection()?;
        let cmd = build();
        match tokio::time::timeout(self.settings.op_timeout, cmd.query_async::<T>(&mut connection)).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(err)) => {
                self.trip(what, &err);
                None
            }
            Err(_) => {
                self.trip(what, &"timed out");
                None
            }
        }
    }

    fn full(&self, key: &str) -> String {
        format!("{}{key}", self.settings.key_prefix)
    }

    async fn lookup(&self, key: &str) -> Lookup {
        let key = self.full(key);
        let reply: Option<(Option<Vec<u8>>, Option<u64>)> = self
            .run("lookup", || {
                let mut cmd = redis::cmd("MGET");
                cmd.arg(&key).arg(generation_key(&key));
                cmd
            })
            .await;
        match reply {
            Some((Some(value), _)) => Lookup::Hit(Bytes::from(value)),
            Some((None, generation)) => Lookup::Miss { generation: Some(generation.unwrap_or(0)) },
            None => Lookup::Miss { generation: None },
        }
    }

    async fn fill(&self, key: &str, generation: u64, value: Bytes, ttl: Duration) -> bool {
        if !self.available() {
            self.counters.skipped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let Some(mut connection) = self.current_connection() else { return false };
        let key = self.full(key);
        let mut invocation = self.fill_script.key(&key);
        invocation
            .key(generation_key(&key))
            .arg(generation.to_string())
            .arg(value.as_ref())
            .arg(ttl.as_millis().max(1) as u64);
        match tokio::time::timeout(self.settings.op_timeout, invocation.invoke_async::<i64>(&mut connection)).await {
            Ok(Ok(stored)) => stored == 1,
            Ok(Err(err)) => {
                self.trip("fill", &err);
                false
            }
            Err(_) => {
                self.trip("fill", &"timed out");
                false
            }
        }
    }

    async fn generation(&self, key: &str) -> Option<u64> {
        let key = generation_key(&self.full(key));
        let value: Option<Option<u64>> = self
            .run("generation", || {
                let mut cmd = redis::cmd("GET");
                cmd.arg(&key);
                cmd
            })
            .await;
        value.map(|g| g.unwrap_or(0))
    }

    async fn get(&self, key: &str) -> Option<Bytes> {
        let key = self.full(key);
        let value: Option<Option<Vec<u8>>> = self
            .run("get", || {
                let mut cmd = redis::cmd("GET");
                cmd.arg(&key);
                cmd
            })
            .await;
        value.flatten().map(Bytes::from)
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Duration) {
        let key = self.full(key);
        let _: Option<()> = self
            .run("set", || {
                let mut cmd = redis::cmd("SET");
                cmd.arg(&key).arg(value.as_ref()).arg("PX").arg(ttl.as_millis().max(1) as u64);
                cmd
            })
            .await;
    }

    async fn invalidate(&self, keys: &[String]) {
        let full: Vec<String> = keys.iter().map(|k| self.full(k)).collect();
        // Queued invalidations go first, so they are never overtaken by newer state.
        if self.has_pending.load(Ordering::Acquire) {
            self.queue(full);
            self.flush_pending().await;
            return;
        }
        if !self.apply_invalidation(&full).await {
            self.queue(full);
        }
    }

    fn queue(&self, keys: Vec<String>) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.extend(keys);
            self.has_pending.store(true, Ordering::Release);
        }
    }

    async fn flush_pending(&self) {
        let keys: Vec<String> = match self.pending.lock() {
            Ok(pending) => pending.iter().cloned().collect(),
            Err(_) => return,
        };
        if keys.is_empty() || !self.apply_invalidation(&keys).await {
            return;
        }
        if let Ok(mut pending) = self.pending.lock() {
            for key in &keys {
                pending.remove(key);
            }
            if pending.is_empty() {
                self.has_pending.store(false, Ordering::Release);
                tracing::info!("queued cache invalidations applied; Redis back in use");
            }
        }
    }

    /// INCR gen:K and DEL K for every key, atomically. Ignores the breaker: invalidations are
    /// what closes it.
    async fn apply_invalidation(&self, full_keys: &[String]) -> bool {
        let Some(mut connection) = self.current_connection() else { return false };
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in full_keys {
            pipe.cmd("INCR").arg(generation_key(key)).ignore();
            pipe.cmd("DEL").arg(key).ignore();
        }
        match tokio::time::timeout(self.settings.op_timeout, pipe.query_async::<()>(&mut connection)).await {
            Ok(Ok(())) => true,
            Ok(Err(err)) => {
                self.trip("invalidate", &err);
                false
            }
            Err(_) => {
                self.trip("invalidate", &"timed out");
                false
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// In-process

struct Entry {
    value: Bytes,
    ttl: Duration,
}

struct PerEntryTtl;

impl moka::Expiry<String, Arc<Entry>> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, value: &Arc<Entry>, _now: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
    fn expire_after_update(
        &self,
        _key: &String,
        value: &Arc<Entry>,
        _now: Instant,
        _current: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// Generations are forgotten this long after their last bump; no load runs that long.
const GENERATION_RETENTION: Duration = Duration::from_secs(600);

pub struct MemoryCache {
    entries: moka::sync::Cache<String, Arc<Entry>>,
    /// key → (generation, last bump). Guarded by one mutex so fill's compare-and-set and
    /// invalidation's bump-and-delete are atomic with respect to each other.
    generations: Mutex<HashMap<String, (u64, Instant)>>,
    settings: CacheSettings,
    counters: CacheCounters,
}

impl MemoryCache {
    fn new(settings: CacheSettings) -> Self {
        let entries =
            moka::sync::Cache::builder().max_capacity(settings.memory_capacity).expire_after(PerEntryTtl).build();
        Self { entries, generations: Mutex::new(HashMap::new()), settings, counters: CacheCounters::default() }
    }

    fn lookup(&self, key: &str) -> Lookup {
        if let Some(entry) = self.entries.get(key) {
            return Lookup::Hit(entry.value.clone());
        }
        Lookup::Miss { generation: Some(self.generation(key)) }
    }

    fn generation(&self, key: &str) -> u64 {
        self.generations.lock().ok().and_then(|g| g.get(key).map(|(n, _)| *n)).unwrap_or(0)
    }

    fn fill(&self, key: &str, generation: u64, value: Bytes, ttl: Duration) -> bool {
        let Ok(generations) = self.generations.lock() else { return false };
        if generations.get(key).map_or(0, |(n, _)| *n) != generation {
            return false;
        }
        self.entries.insert(key.to_owned(), Arc::new(Entry { value, ttl }));
        true
    }

    fn get(&self, key: &str) -> Option<Bytes> {
        self.entries.get(key).map(|e| e.value.clone())
    }

    fn set(&self, key: &str, value: Bytes, ttl: Duration) {
        self.entries.insert(key.to_owned(), Arc::new(Entry { value, ttl }));
    }

    fn invalidate(&self, keys: &[String]) {
        let Ok(mut generations) = self.generations.lock() else { return };
        let now = Instant::now();
        if generations.len() > 10_000 {
            generations.retain(|_, (_, bumped)| now.duration_since(*bumped) < GENERATION_RETENTION);
        }
        for key in keys {
            let slot = generations.entry(key.clone()).or_insert((0, now));
            slot.0 += 1;
            slot.1 = now;
            self.entries.invalidate(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> Cache {
        Cache::memory(CacheSettings { ttl_jitter: 0.0, ..CacheSettings::default() })
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
        assert_eq!(cache.lookup("document:a").await, Lookup::Miss { generation: Some(seen + 1) });
    }

    #[tokio::test]
    async fn a_fill_at_the_current_generation_is_served() {
        let cache = memory();
        assert!(cache.fill("k", 0, Bytes::from_static(b"v"), Duration::from_secs(60)).await);
        assert_eq!(cache.lookup("k").await, Lookup::Hit(Bytes::from_static(b"v")));
        assert_eq!(cache.stats().hits, 1);
    }

    #[tokio::test]
    async fn entries_expire_after_their_ttl() {
        let cache = memory();
        cache.set("short", Bytes::from_static(b"v"), Duration::from_millis(30)).await;
        assert!(cache.get("short").await.is_some());
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(cache.get("short").await.is_none());
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let cache = Cache::memory(CacheSettings { ttl_jitter: 0.1, ..CacheSettings::default() });
        for _ in 0..1000 {
            let ttl = cache.jittered(Duration::from_secs(100));
            assert!(ttl >= Duration::from_secs(90) && ttl <= Duration::from_secs(110), "{ttl:?}");
        }
    }
}
