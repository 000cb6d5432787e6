//! The Redis backend of server mode.
//!
//! Every key lives under `{prefix}{epoch}:`. The epoch is stored in Redis beside the run id of
//! the Redis process that holds it; a process that connects and finds the epoch written under
//! another run id (a restart from a snapshot, a failover) or none at all (a restart empty, an
//! eviction) starts a new epoch, so values and generations from before are never read again.
//! A connection is verified this way before its first use and dropped on any failure, so a
//! restarted Redis is always re-verified; the epoch key is also re-read on every maintenance
//! tick, so a change made by another instance is followed within one tick.
//!
//! An invalidation that cannot reach Redis is kept in process and, in server mode, recorded in
//! the [`InvalidationLog`]. Any instance hearing of log entries stops reading Redis until it
//! has applied them (an instance that can reach Redis applies them for everyone).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;
use tokio::sync::Notify;

use super::{CacheCounters, CacheSettings, Generation, InvalidationLog, Lookup};

/// Sets KEYS[1] = ARGV[2] (PX ARGV[3]) only if the generation KEYS[2] still equals ARGV[1].
const FILL_SCRIPT: &str = r"
local g = redis.call('GET', KEYS[2])
if (g or '0') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0";

/// Returns the epoch stored in KEYS[1] if it was written under run id ARGV[1]; otherwise
/// stores ARGV[2] as the new epoch under that run id and returns it.
const EPOCH_SCRIPT: &str = r"
local stored = redis.call('GET', KEYS[1])
if stored then
  local sep = string.find(stored, ':', 1, true)
  if sep and string.sub(stored, 1, sep - 1) == ARGV[1] then
    return string.sub(stored, sep + 1)
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2])
return ARGV[2]";

/// How often the background task reconnects, re-checks the epoch and applies queued work.
const MAINTENANCE_TICK: Duration = Duration::from_millis(200);
/// Log entries applied per round trip.
const LOG_BATCH: i64 = 500;

/// A verified connection and the epoch it reads and writes under.
#[derive(Clone)]
struct Link {
    connection: MultiplexedConnection,
    epoch: u64,
}

pub struct RedisCache {
    client: redis::Client,
    link: RwLock<Option<Link>>,
    pub(super) settings: CacheSettings,
    pub(super) counters: CacheCounters,
    started: Instant,
    /// Milliseconds since `started` before which Redis is not tried.
    open_until_ms: AtomicU64,
    /// Invalidations of this process that could not be applied yet (logical keys).
    pending: Mutex<HashSet<String>>,
    has_pending: AtomicBool,
    log: Option<InvalidationLog>,
    /// Bumped whenever the log may hold entries this process has not applied; Redis is not
    /// read until `log_applied` catches up.
    log_heard: AtomicU64,
    log_applied: AtomicU64,
    /// Wakes the maintenance task early (a log notification, a failed invalidation).
    wake: Notify,
    /// The last epoch this process used, to tell a new one in the logs.
    last_epoch: AtomicU64,
    fill_script: redis::Script,
    epoch_script: redis::Script,
}

impl RedisCache {
    pub(super) fn start(client: redis::Client, settings: CacheSettings, log: Option<InvalidationLog>) -> Arc<Self> {
        let cache = Arc::new(Self {
            client,
            link: RwLock::new(None),
            settings,
            counters: CacheCounters::default(),
            started: Instant::now(),
            open_until_ms: AtomicU64::new(0),
            pending: Mutex::new(HashSet::new()),
            has_pending: AtomicBool::new(false),
            log,
            // Until the log has been read once, it may hold entries from before this start.
            log_heard: AtomicU64::new(1),
            log_applied: AtomicU64::new(0),
            wake: Notify::new(),
            last_epoch: AtomicU64::new(0),
            fill_script: redis::Script::new(FILL_SCRIPT),
            epoch_script: redis::Script::new(EPOCH_SCRIPT),
        });
        if cache.log.is_none() {
            cache.log_applied.store(1, Ordering::Release);
        }
        Self::spawn_maintenance(&cache);
        if let Some(log) = &cache.log {
            log.spawn_listener(Arc::downgrade(&cache));
        }
        cache
    }

    /// Connects in the background, then keeps the epoch checked and queued invalidations
    /// applied. Holds only a weak reference, so the task ends when the cache is dropped.
    fn spawn_maintenance(this: &Arc<Self>) {
        let weak = Arc::downgrade(this);
        tokio::spawn(async move {
            let mut warned = false;
            loop {
                let Some(cache) = weak.upgrade() else { return };
                cache.maintain(&mut warned).await;
                let woken = async { cache.wake.notified().await };
                let _ = tokio::time::timeout(MAINTENANCE_TICK, woken).await;
            }
        });
    }

    /// The log may hold entries this process has not applied (called by the log listener).
    pub(super) fn heard_from_log(&self) {
        self.log_heard.fetch_add(1, Ordering::AcqRel);
        self.wake.notify_one();
    }

    async fn maintain(&self, warned: &mut bool) {
        match self.current_link() {
            None => match self.connect().await {
                Ok(link) => {
                    let previous = self.last_epoch.swap(link.epoch, Ordering::AcqRel);
                    if previous != 0 && previous != link.epoch {
                        self.counters.epoch_changes.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!("Redis holds another epoch's data (restarted or failed over); ignoring it");
                    }
                    tracing::info!(epoch = format!("{:x}", link.epoch), "connected to Redis");
                    *warned = false;
                    if let Ok(mut slot) = self.link.write() {
                        *slot = Some(link);
                    }
                    self.counters.connections.fetch_add(1, Ordering::Relaxed);
                    // Entries may have been logged while this process could not apply them.
                    if self.log.is_some() {
                        self.log_heard.fetch_add(1, Ordering::AcqRel);
                    }
                }
                Err(err) => {
                    if !*warned && self.started.elapsed() > Duration::from_secs(2) {
                        tracing::warn!(error = %err, "Redis unreachable; serving from the database until it is back");
                        *warned = true;
                    } else {
                        tracing::debug!(error = %err, "Redis not reachable yet");
                    }
                    return;
                }
            },
            Some(link) => {
                if !self.epoch_still_current(link).await {
                    return;
                }
            }
        }
        if self.log_applied.load(Ordering::Acquire) < self.log_heard.load(Ordering::Acquire) {
            self.apply_log().await;
        }
        if self.has_pending.load(Ordering::Acquire) {
            self.flush_pending().await;
        }
    }

    /// Opens a connection and agrees on the epoch with the Redis process behind it.
    async fn connect(&self) -> anyhow::Result<Link> {
        let timeout = self.settings.op_timeout.max(Duration::from_millis(200));
        let config = AsyncConnectionConfig::new().set_connection_timeout(timeout).set_response_timeout(timeout);
        let attempt = async {
            let mut connection = self.client.get_multiplexed_async_connection_with_config(&config).await?;
            let info: String = redis::cmd("INFO").arg("server").query_async(&mut connection).await?;
            let run_id = info
                .lines()
                .find_map(|line| line.strip_prefix("run_id:"))
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .ok_or_else(|| anyhow::anyhow!("Redis INFO has no run_id"))?
                .to_owned();
            let candidate = format!("{:016x}", rand::random::<u64>() | 1);
            let epoch: String = self
                .epoch_script
                .key(self.epoch_key())
                .arg(&run_id)
                .arg(&candidate)
                .invoke_async(&mut connection)
                .await?;
            let epoch = u64::from_str_radix(&epoch, 16).map_err(|_| anyhow::anyhow!("malformed epoch {epoch:?}"))?;
            anyhow::Ok(Link { connection, epoch })
        };
        tokio::time::timeout(Duration::from_secs(2), attempt)
            .await
            .map_err(|_| anyhow::anyhow!("connecting timed out"))?
    }

    /// Re-reads the epoch key; drops the link (to be re-verified) if it changed or failed.
    async fn epoch_still_current(&self, link: Link) -> bool {
        let mut connection = link.connection.clone();
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.epoch_key());
        let read = cmd.query_async::<Option<String>>(&mut connection);
        let current = match tokio::time::timeout(self.settings.op_timeout, read).await {
            Ok(Ok(value)) => value,
            Ok(Err(err)) => {
                self.fail("epoch check", &err);
                return false;
            }
            Err(_) => {
                self.fail("epoch check", &"timed out");
                return false;
            }
        };
        let same = current
            .as_deref()
            .and_then(|v| v.rsplit_once(':'))
            .and_then(|(_, epoch)| u64::from_str_radix(epoch, 16).ok())
            .is_some_and(|epoch| epoch == link.epoch);
        if !same {
            self.drop_link();
        }
        same
    }

    fn epoch_key(&self) -> String {
        format!("{}epoch", self.settings.key_prefix)
    }

    fn current_link(&self) -> Option<Link> {
        self.link.read().ok().and_then(|slot| slot.clone())
    }

    fn drop_link(&self) {
        if let Ok(mut slot) = self.link.write() {
            *slot = None;
        }
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// True when reads and fills may go to Redis.
    pub(super) fn available(&self) -> bool {
        !self.has_pending.load(Ordering::Acquire)
            && self.log_applied.load(Ordering::Acquire) >= self.log_heard.load(Ordering::Acquire)
            && self.now_ms() >= self.open_until_ms.load(Ordering::Relaxed)
            && self.link.read().is_ok_and(|slot| slot.is_some())
    }

    pub(super) fn pending_len(&self) -> usize {
        self.pending.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// Counts a failure, opens the breaker and drops the connection: the next one is verified
    /// again, so a Redis that restarted meanwhile is noticed.
    fn fail(&self, what: &str, err: &dyn std::fmt::Display) {
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        self.drop_link();
        let until = self.now_ms() + self.settings.breaker_open.as_millis() as u64;
        let previous = self.open_until_ms.swap(until, Ordering::Relaxed);
        if previous <= self.now_ms() {
            tracing::warn!(operation = what, error = %err, "Redis failed; serving from the database");
        }
    }

    /// The link to use for a read or fill, if Redis may be used now.
    fn usable_link(&self) -> Option<Link> {
        if !self.available() {
            self.counters.skipped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        self.current_link()
    }

    /// Runs a command built for `link` within the operation timeout; `None` on any failure.
    async fn run<T: redis::FromRedisValue>(&self, what: &str, build: impl FnOnce(&Link) -> redis::Cmd) -> Option<T> {
        let link = self.usable_link()?;
        let cmd = build(&link);
        let mut connection = link.connection;
        match tokio::time::timeout(self.settings.op_timeout, cmd.query_async::<T>(&mut connection)).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(err)) => {
                self.fail(what, &err);
                None
            }
            Err(_) => {
                self.fail(what, &"timed out");
                None
            }
        }
    }

    fn full(&self, link: &Link, key: &str) -> String {
        format!("{}{:x}:{key}", self.settings.key_prefix, link.epoch)
    }

    fn generation_key(&self, link: &Link, key: &str) -> String {
        format!("{}{:x}:gen:{key}", self.settings.key_prefix, link.epoch)
    }

    pub(super) async fn lookup(&self, key: &str) -> Lookup {
        let mut epoch = 0;
        let reply: Option<(Option<Vec<u8>>, Option<u64>)> = self
            .run("lookup", |link| {
                epoch = link.epoch;
                let mut cmd = redis::cmd("MGET");
                cmd.arg(self.full(link, key)).arg(self.generation_key(link, key));
                cmd
            })
            .await;
        match reply {
            Some((Some(value), _)) => Lookup::Hit(Bytes::from(value)),
            Some((None, number)) => {
                Lookup::Miss { generation: Some(Generation { epoch, number: number.unwrap_or(0) }) }
            }
            None => Lookup::Miss { generation: None },
        }
    }

    pub(super) async fn fill(&self, key: &str, generation: Generation, value: Bytes, ttl: Duration) -> bool {
        let Some(link) = self.usable_link() else { return false };
        // A generation read in another epoch says nothing about this one.
        if link.epoch != generation.epoch {
            return false;
        }
        let mut invocation = self.fill_script.key(self.full(&link, key));
        invocation
            .key(self.generation_key(&link, key))
            .arg(generation.number.to_string())
            .arg(value.as_ref())
            .arg(ttl.as_millis().max(1) as u64);
        let mut connection = link.connection;
        match tokio::time::timeout(self.settings.op_timeout, invocation.invoke_async::<i64>(&mut connection)).await {
            Ok(Ok(stored)) => stored == 1,
            Ok(Err(err)) => {
                self.fail("fill", &err);
                false
            }
            Err(_) => {
                self.fail("fill", &"timed out");
                false
            }
        }
    }

    pub(super) async fn generation(&self, key: &str) -> Option<Generation> {
        let mut epoch = 0;
        let value: Option<Option<u64>> = self
            .run("generation", |link| {
                epoch = link.epoch;
                let mut cmd = redis::cmd("GET");
                cmd.arg(self.generation_key(link, key));
                cmd
            })
            .await;
        value.map(|number| Generation { epoch, number: number.unwrap_or(0) })
    }

    pub(super) async fn get(&self, key: &str) -> Option<Bytes> {
        let value: Option<Option<Vec<u8>>> = self
            .run("get", |link| {
                let mut cmd = redis::cmd("GET");
                cmd.arg(self.full(link, key));
                cmd
            })
            .await;
        value.flatten().map(Bytes::from)
    }

    pub(super) async fn set(&self, key: &str, value: Bytes, ttl: Duration) {
        let _: Option<()> = self
            .run("set", |link| {
                let mut cmd = redis::cmd("SET");
                cmd.arg(self.full(link, key)).arg(value.as_ref()).arg("PX").arg(ttl.as_millis().max(1) as u64);
                cmd
            })
            .await;
    }

    pub(super) async fn invalidate(&self, keys: &[String]) {
        // Queued invalidations go first, so they are never overtaken by newer state.
        if self.has_pending.load(Ordering::Acquire) {
            self.queue(keys);
            self.flush_pending().await;
            return;
        }
        if self.apply_invalidation(keys).await {
            return;
        }
        self.queue(keys);
        // Tell the other instances, which may still be reading this Redis.
        if let Some(log) = &self.log {
            if let Err(err) = log.record(keys).await {
                tracing::warn!(error = %err, "could not log a cache invalidation for the other instances");
            }
        }
        self.wake.notify_one();
    }

    fn queue(&self, keys: &[String]) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.extend(keys.iter().cloned());
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

    /// Applies every entry of the log, then marks the log as caught up to what was heard
    /// before starting (anything heard meanwhile keeps Redis unused until the next round).
    async fn apply_log(&self) {
        let Some(log) = &self.log else { return };
        let target = self.log_heard.load(Ordering::Acquire);
        loop {
            let entries = match log.pending(LOG_BATCH).await {
                Ok(entries) => entries,
                Err(err) => {
                    tracing::warn!(error = %err, "could not read the cache invalidation log");
                    return;
                }
            };
            if entries.is_empty() {
                break;
            }
            let keys: Vec<String> = entries.iter().map(|(_, key)| key.clone()).collect();
            if !self.apply_invalidation(&keys).await {
                return;
            }
            let ids: Vec<i64> = entries.iter().map(|(id, _)| *id).collect();
            if let Err(err) = log.remove(&ids).await {
                tracing::warn!(error = %err, "could not trim the cache invalidation log");
                return;
            }
        }
        self.log_applied.fetch_max(target, Ordering::AcqRel);
    }

    /// INCR gen:K and DEL K for every key, atomically. Ignores the breaker: invalidations are
    /// what closes it.
    async fn apply_invalidation(&self, keys: &[String]) -> bool {
        let Some(link) = self.current_link() else { return false };
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in keys {
            pipe.cmd("INCR").arg(self.generation_key(&link, key)).ignore();
            pipe.cmd("DEL").arg(self.full(&link, key)).ignore();
        }
        let mut connection = link.connection;
        match tokio::time::timeout(self.settings.op_timeout, pipe.query_async::<()>(&mut connection)).await {
            Ok(Ok(())) => true,
            Ok(Err(err)) => {
                self.fail("invalidate", &err);
                false
            }
            Err(_) => {
                self.fail("invalidate", &"timed out");
                false
            }
        }
    }
}
