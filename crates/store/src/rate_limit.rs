//! Request rate limits shared by every instance: the generic cell rate algorithm (GCRA) in
//! Redis, one Lua script per decision so concurrent instances cannot both take the last
//! request; in process where there is no Redis, and while Redis fails — a limit never lapses
//! into "no limit".
//!
//! GCRA keeps one number per bucket, the *theoretical arrival time* (TAT): requests are spaced
//! `period / requests` apart, and a request is allowed when the TAT it would push to is no
//! more than `period` ahead of now (so up to `requests` may come at once).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;

/// How many requests a bucket allows per period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub requests: u32,
    pub period: Duration,
}

impl Quota {
    /// The spacing between requests at the sustained rate, in milliseconds (at least 1).
    fn interval_ms(self) -> u64 {
        (self.period_ms() / u64::from(self.requests.max(1))).max(1)
    }

    fn period_ms(self) -> u64 {
        u64::try_from(self.period.as_millis()).unwrap_or(u64::MAX).max(1)
    }
}

/// What a bucket says of one request, with what the `RateLimit-*` headers report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    /// Requests that may still come at once.
    pub remaining: u32,
    /// Until the bucket is full again.
    pub reset: Duration,
    /// When refused: until one more request is allowed.
    pub retry_after: Duration,
}

/// The GCRA step shared by both backends: from the stored TAT (or none) and now, the
/// decision and the TAT to store when allowed.
fn gcra(stored_tat: Option<u64>, now: u64, quota: Quota) -> (Decision, Option<u64>) {
    let (interval, tolerance) = (quota.interval_ms(), quota.period_ms());
    let tat = stored_tat.unwrap_or(now).max(now);
    let new_tat = tat + interval;
    let ahead = new_tat - now;
    if ahead > tolerance {
        let decision = Decision {
            allowed: false,
            limit: quota.requests,
            remaining: 0,
            reset: Duration::from_millis(tat - now),
            retry_after: Duration::from_millis(ahead - tolerance),
        };
        return (decision, None);
    }
    let remaining = u32::try_from((tolerance - ahead) / interval).unwrap_or(u32::MAX).min(quota.requests);
    let decision = Decision {
        allowed: true,
        limit: quota.requests,
        remaining,
        reset: Duration::from_millis(ahead),
        retry_after: Duration::ZERO,
    };
    (decision, Some(new_tat))
}

/// The same step in Redis, on Redis's clock (every instance shares it). Returns
/// `{allowed, remaining, reset_ms, retry_after_ms}`.
const GCRA_SCRIPT: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local ahead = new_tat - now
if ahead > tolerance then
  return {0, 0, tat - now, ahead - tolerance}
end
redis.call('SET', KEYS[1], new_tat, 'PX', ahead)
local remaining = math.floor((tolerance - ahead) / interval)
if remaining > limit then remaining = limit end
return {1, remaining, ahead, 0}
";

/// Limits kept in process: a bounded map of TATs, entries dropped once idle for longer than
/// any period (a full bucket needs no entry).
struct MemoryLimiter {
    tats: moka::sync::Cache<String, Arc<Mutex<u64>>>,
    epoch: Instant,
}

impl MemoryLimiter {
    fn new(capacity: u64, longest_period: Duration) -> Self {
        let tats = moka::sync::Cache::builder().max_capacity(capacity).time_to_idle(longest_period).build();
        Self { tats, epoch: Instant::now() }
    }

    fn check(&self, bucket: &str, quota: Quota) -> Decision {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        let cell = self.tats.get_with(bucket.to_owned(), || Arc::new(Mutex::new(0)));
        let Ok(mut tat) = cell.lock() else {
            // A poisoned lock only means another request panicked mid-update: start the bucket over.
            return gcra(None, now, quota).0;
        };
        let stored = (*tat > 0).then_some(*tat);
        let (decision, new_tat) = gcra(stored, now, quota);
        if let Some(new_tat) = new_tat {
            *tat = new_tat;
        }
        decision
    }
}

/// Redis, with a breaker: after a failure it is skipped for `breaker_open`, and the
/// in-process limiter decides meanwhile.
struct RedisLimiter {
    client: redis::Client,
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    script: redis::Script,
    key_prefix: String,
    op_timeout: Duration,
    breaker_open: Duration,
    open_until: Mutex<Option<Instant>>,
}

impl RedisLimiter {
    async fn check(&self, bucket: &str, quota: Quota) -> Result<Decision, String> {
        if self.open_until.lock().ok().and_then(|until| *until).is_some_and(|until| Instant::now() < until) {
            return Err("breaker open".into());
        }
        let attempt = async {
            let mut connection = self.connection().await?;
            let reply: Vec<u64> = self
                .script
                .key(format!("{}rl:{bucket}", self.key_prefix))
                .arg(quota.interval_ms())
                .arg(quota.period_ms())
                .arg(quota.requests)
                .invoke_async(&mut connection)
                .await
                .map_err(|err| err.to_string())?;
            match reply[..] {
                [allowed, remaining, reset, retry_after] => Ok(Decision {
                    allowed: allowed == 1,
                    limit: quota.requests,
                    remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
                    reset: Duration::from_millis(reset),
                    retry_after: Duration::from_millis(retry_after),
                }),
                _ => Err(format!("unexpected reply {reply:?}")),
            }
        };
        let result = tokio::time::timeout(self.op_timeout, attempt).await.unwrap_or_else(|_| Err("timed out".into()));
        if result.is_err() {
            if let Ok(mut until) = self.open_until.lock() {
                *until = Some(Instant::now() + self.breaker_open);
            }
            *self.connection.lock().await = None;
        }
        result
    }

    async fn connection(&self) -> Result<MultiplexedConnection, String> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let config =
            AsyncConnectionConfig::new().set_connection_timeout(self.op_timeout).set_response_timeout(self.op_timeout);
        let connection =
            self.client.get_multiplexed_async_connection_with_config(&config).await.map_err(|err| err.to_string())?;
        *slot = Some(connection.clone());
        Ok(connection)
    }
}

/// Counters for `/readyz` and tests.
#[derive(Debug, Default)]
pub struct LimiterCounters {
    /// Requests refused.
    pub refused: AtomicU64,
    /// Decisions the in-process limiter took because Redis failed.
    pub fallbacks: AtomicU64,
}

/// Rate limits by bucket (an API key's hash, an IP address, …), each with its quota.
#[derive(Clone)]
pub struct RateLimiter {
    redis: Option<Arc<RedisLimiter>>,
    memory: Arc<MemoryLimiter>,
    pub counters: Arc<LimiterCounters>,
}

/// Buckets kept in process at most (beyond them the least recently used go, as a full bucket).
const MEMORY_BUCKETS: u64 = 100_000;

impl RateLimiter {
    /// Limits kept in this process only (embedded mode).
    pub fn memory(longest_period: Duration) -> Self {
        Self {
            redis: None,
            memory: Arc::new(MemoryLimiter::new(MEMORY_BUCKETS, longest_period)),
            counters: Arc::default(),
        }
    }

    /// Limits kept in Redis under `key_prefix`, in process while Redis fails.
    pub fn redis(
        url: &str,
        key_prefix: &str,
        op_timeout: Duration,
        breaker_open: Duration,
        longest_period: Duration,
    ) -> anyhow::Result<Self> {
        let redis = RedisLimiter {
            client: redis::Client::open(url)?,
            connection: tokio::sync::Mutex::new(None),
            script: redis::Script::new(GCRA_SCRIPT),
            key_prefix: key_prefix.to_owned(),
            op_timeout,
            breaker_open,
            open_until: Mutex::new(None),
        };
        Ok(Self { redis: Some(Arc::new(redis)), ..Self::memory(longest_period) })
    }

    /// Takes one request from `bucket`, or refuses it.
    pub async fn check(&self, bucket: &str, quota: Quota) -> Decision {
        let decision = match &self.redis {
            Some(redis) => match redis.check(bucket, quota).await {
                Ok(decision) => decision,
                Err(err) => {
                    if self.counters.fallbacks.fetch_add(1, Ordering::Relaxed) == 0 {
                        tracing::warn!(error = %err, "rate limits: Redis failed; limiting in process meanwhile");
                    }
                    self.memory.check(bucket, quota)
                }
            },
            None => self.memory.check(bucket, quota),
        };
        if !decision.allowed {
            self.counters.refused.fetch_add(1, Ordering::Relaxed);
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE_PER_SECOND: Quota = Quota { requests: 5, period: Duration::from_secs(1) };

    #[test]
    fn a_full_bucket_allows_its_burst_then_refuses() {
        let mut tat = None;
        let mut allowed = 0;
        for _ in 0..8 {
            let (decision, new_tat) = gcra(tat, 1_000, FIVE_PER_SECOND);
            if decision.allowed {
                allowed += 1;
                tat = new_tat;
            }
        }
        assert_eq!(allowed, 5);
    }

    #[test]
    fn a_refusal_says_when_to_retry_and_then_it_is_allowed() {
        let mut tat = None;
        for _ in 0..5 {
            tat = gcra(tat, 1_000, FIVE_PER_SECOND).1;
        }
        let (refused, _) = gcra(tat, 1_000, FIVE_PER_SECOND);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::from_millis(200));
        let later = 1_000 + 200;
        assert!(gcra(tat, later, FIVE_PER_SECOND).0.allowed);
    }

    #[test]
    fn remaining_counts_down_to_zero() {
        let mut tat = None;
        let mut seen = Vec::new();
        for _ in 0..5 {
            let (decision, new_tat) = gcra(tat, 1_000, FIVE_PER_SECOND);
            seen.push(decision.remaining);
            tat = new_tat;
        }
        assert_eq!(seen, [4, 3, 2, 1, 0]);
    }

    #[test]
    fn the_memory_limiter_keeps_buckets_apart() {
        let limiter = MemoryLimiter::new(100, Duration::from_secs(60));
        let quota = Quota { requests: 2, period: Duration::from_secs(60) };
        assert!(limiter.check("a", quota).allowed);
        assert!(limiter.check("a", quota).allowed);
        assert!(!limiter.check("a", quota).allowed);
        assert!(limiter.check("b", quota).allowed);
    }
}
