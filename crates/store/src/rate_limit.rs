//! Request rate limits shared by every instance: the generic cell rate algorithm (GCRA) in
//! Redis, one Lua script per decision so concurrent instances cannot both take the last
//! request; in process where there is no Redis, and while Redis fails — a limit never lapses
//! into "no limit".
//!
//! GCRA keeps one number per bucket, the *theoretical arrival time* (TAT): requests are spaced
//! `period / requests` apart, and a request is allowed when the TAT it would push to is no
//! more than `period` ahead of now (so up to `requests` may come at once).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::redis_link::RedisLink;

/// How many requests a bucket allows per period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub requests: u32,
    pub period: Duration,
}

impl Quota {
    /// The spacing between requests at the sustained rate, in microseconds (at least 1).
    fn interval_us(self) -> u64 {
        (self.period_us() / u64::from(self.requests.max(1))).max(1)
    }

    fn period_us(self) -> u64 {
        u64::try_from(self.period.as_micros()).unwrap_or(u64::MAX).max(1)
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

/// The GCRA step shared by both backends: from the stored TAT (or none) and now, in
/// microseconds, the decision and the TAT to store when allowed.
fn gcra(stored_tat: Option<u64>, now: u64, quota: Quota) -> (Decision, Option<u64>) {
    let (interval, tolerance) = (quota.interval_us(), quota.period_us());
    let tat = stored_tat.unwrap_or(now).max(now);
    let new_tat = tat + interval;
    let ahead = new_tat - now;
    if ahead > tolerance {
        let decision = Decision {
            allowed: false,
            limit: quota.requests,
            remaining: 0,
            reset: Duration::from_micros(tat - now),
            retry_after: Duration::from_micros(ahead - tolerance),
        };
        return (decision, None);
    }
    let remaining = u32::try_from((tolerance - ahead) / interval).unwrap_or(u32::MAX).min(quota.requests);
    let decision = Decision {
        allowed: true,
        limit: quota.requests,
        remaining,
        reset: Duration::from_micros(ahead),
        retry_after: Duration::ZERO,
    };
    (decision, Some(new_tat))
}

/// The same step in Redis for several buckets at once (all must allow; a refusal takes
/// nothing from any), on Redis's clock (every instance shares it), in microseconds (exact in
/// Lua's doubles until the year 2255). ARGV[1] is how many requests to take at most (a lease,
/// see [`RateLimiter`]); then `interval, tolerance, limit` per key. Takes as many as every
/// bucket allows, at least one, and returns `{allowed, index, remaining, reset_us,
/// retry_after_us, taken}` of the refusing bucket, or of the bucket with the least remaining.
const GCRA_SCRIPT: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local wanted = tonumber(ARGV[1])
local tats, fits, take = {}, {}, wanted
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[3 * i - 1])
  local tolerance = tonumber(ARGV[3 * i])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local fit = math.floor((tolerance - (tat - now)) / interval)
  if fit < 1 then
    return {0, i - 1, 0, tat - now, tat + interval - now - tolerance, 0}
  end
  tats[i], fits[i] = tat, fit
  if fit < take then take = fit end
end
local best, best_remaining, best_ahead = 1, nil, 0
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[3 * i - 1])
  local limit = tonumber(ARGV[3 * i + 1])
  local new_tat = tats[i] + take * interval
  local ahead = new_tat - now
  redis.call('SET', key, string.format('%.0f', new_tat), 'PX', math.ceil(ahead / 1000))
  local remaining = math.min(fits[i] - take, limit)
  if best_remaining == nil or remaining < best_remaining then best, best_remaining, best_ahead = i, remaining, ahead end
end
return {1, best - 1, best_remaining, best_ahead, 0, take}
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

    /// All of `buckets` allow the request, or none is charged (see [`GCRA_SCRIPT`]).
    fn check(&self, buckets: &[(&str, Quota)]) -> Decision {
        // (From 1, so that 0 can stand for "no request yet".)
        let now = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX).saturating_add(1);
        let cells: Vec<Arc<Mutex<u64>>> = buckets
            .iter()
            .map(|(bucket, _)| self.tats.get_with((*bucket).to_owned(), || Arc::new(Mutex::new(0))))
            .collect();
        // Locked in the order of the bucket names, so two requests never wait on each other.
        let mut order: Vec<usize> = (0..buckets.len()).collect();
        order.sort_by_key(|&i| buckets[i].0);
        let mut guards: Vec<Option<std::sync::MutexGuard<'_, u64>>> = (0..buckets.len()).map(|_| None).collect();
        for &i in &order {
            // A poisoned lock only means a request panicked mid-update; its value is still a TAT.
            guards[i] = Some(cells[i].lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        }
        let mut decided: Vec<(Decision, Option<u64>)> = Vec::with_capacity(buckets.len());
        for (i, (_, quota)) in buckets.iter().enumerate() {
            let stored = guards[i].as_deref().copied().filter(|tat| *tat > 0);
            let (decision, new_tat) = gcra(stored, now, *quota);
            if !decision.allowed {
                return decision;
            }
            decided.push((decision, new_tat));
        }
        for (guard, (_, new_tat)) in guards.iter_mut().zip(&decided) {
            if let (Some(guard), Some(new_tat)) = (guard.as_mut(), new_tat) {
                **guard = *new_tat;
            }
        }
        decided.into_iter().map(|(decision, _)| decision).min_by_key(|d| d.remaining).unwrap_or(Decision {
            allowed: true,
            limit: 0,
            remaining: 0,
            reset: Duration::ZERO,
            retry_after: Duration::ZERO,
        })
    }
}

/// Redis, through a [`RedisLink`] whose breaker hands decisions to the in-process limiter
/// while Redis fails.
struct RedisLimiter {
    link: RedisLink,
    script: redis::Script,
}

impl RedisLimiter {
    /// Takes up to `wanted` requests from every bucket: the decision and how many were taken.
    async fn check(&self, buckets: &[(&str, Quota)], wanted: u32) -> Result<(Decision, u32), String> {
        let mut invocation = self.script.prepare_invoke();
        invocation.arg(wanted.max(1));
        for (bucket, quota) in buckets {
            invocation
                .key(format!("{}rl:{bucket}", self.link.key_prefix))
                .arg(quota.interval_us())
                .arg(quota.period_us())
                .arg(quota.requests);
        }
        let reply: Vec<u64> = self
            .link
            .run(|mut connection| async move {
                invocation.invoke_async(&mut connection).await.map_err(|err| err.to_string())
            })
            .await?;
        match reply[..] {
            [allowed, index, remaining, reset, retry_after, taken] => {
                let (_, quota) = usize::try_from(index).ok().and_then(|i| buckets.get(i)).ok_or("bad index")?;
                let decision = Decision {
                    allowed: allowed == 1,
                    limit: quota.requests,
                    remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
                    reset: Duration::from_micros(reset),
                    retry_after: Duration::from_micros(retry_after),
                };
                Ok((decision, u32::try_from(taken).unwrap_or(0)))
            }
            _ => Err(format!("unexpected reply {reply:?}")),
        }
    }
}

/// Counters for `/readyz` and tests.
#[derive(Debug, Default)]
pub struct LimiterCounters {
    /// Requests refused.
    pub refused: AtomicU64,
    /// Decisions the in-process limiter took because Redis failed.
    pub fallbacks: AtomicU64,
    /// Scripts run in Redis (each decides one request or takes a lease of several).
    pub redis_calls: AtomicU64,
}

/// Requests taken from Redis ahead for one set of buckets, to be allowed in process for a
/// moment: a busy client costs one round trip per lease instead of one per request. A lease
/// is never larger than a tenth of the smallest quota, nor than the requests the same
/// buckets saw in the last lease's time, so a quiet or small bucket is decided one request at
/// a time; what a lease leaves unused when it lapses is lost (counted as used), never given
/// twice. One request at a time refills a lease; the others wait for it.
#[derive(Clone, Copy, Debug)]
struct Lease {
    tokens: u32,
    until: Instant,
    decision: Decision,
    /// Requests counted in the current window of [`LEASE_TTL`], and in the last full one.
    window_start: Instant,
    window_count: u32,
    last_window: u32,
    /// Requests the last refill leased.
    granted: u32,
}

impl Lease {
    /// Whether a busy lease is down to its last quarter: time to take the next one ahead.
    fn running_low(&self) -> bool {
        self.granted >= PREFETCH_FROM && self.tokens.saturating_mul(4) <= self.granted
    }

    /// The size of the next lease: what the buckets saw lately, within the bounds.
    fn wanted(&self, buckets: &[(&str, Quota)]) -> u32 {
        let smallest = buckets.iter().map(|(_, quota)| quota.requests).min().unwrap_or(1);
        self.last_window.max(self.window_count).min(MAX_LEASE).min(smallest / 10).max(1)
    }

    /// Counts a request; takes one leased request if there is a fresh one.
    fn take(&mut self, now: Instant) -> Option<Decision> {
        if now.duration_since(self.window_start) > LEASE_TTL {
            self.last_window = self.window_count;
            self.window_count = 0;
            self.window_start = now;
        }
        self.window_count = self.window_count.saturating_add(1);
        self.take_leased(now)
    }

    fn take_leased(&mut self, now: Instant) -> Option<Decision> {
        if self.tokens == 0 || now >= self.until {
            return None;
        }
        self.tokens -= 1;
        self.decision.remaining = self.decision.remaining.saturating_sub(1);
        Some(self.decision)
    }
}

struct LeaseCell {
    lease: Mutex<Lease>,
    refill: tokio::sync::Mutex<()>,
    /// A refill taken ahead is under way.
    prefetching: AtomicBool,
}

impl LeaseCell {
    fn lease(&self) -> std::sync::MutexGuard<'_, Lease> {
        self.lease.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Leases at least this large are refilled ahead, in the background, when a quarter is left,
/// so that a busy client's requests do not wait on the refill's round trip.
const PREFETCH_FROM: u32 = 8;

/// How long leased requests may be used.
const LEASE_TTL: Duration = Duration::from_millis(50);
/// The largest lease.
const MAX_LEASE: u32 = 64;

/// Rate limits by bucket (an API key's hash, an IP address, …), each with its quota.
#[derive(Clone)]
pub struct RateLimiter {
    redis: Option<Arc<RedisLimiter>>,
    leases: moka::sync::Cache<String, Arc<LeaseCell>>,
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
            leases: moka::sync::Cache::builder()
                .max_capacity(MEMORY_BUCKETS)
                .time_to_idle(Duration::from_secs(1))
                .build(),
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
            link: RedisLink::new(url, key_prefix, op_timeout, breaker_open)?,
            script: redis::Script::new(GCRA_SCRIPT),
        };
        Ok(Self { redis: Some(Arc::new(redis)), ..Self::memory(longest_period) })
    }

    /// Takes one request from each of `buckets` (a client's address, its key, …), or refuses
    /// it and takes nothing: one decision, one round trip.
    pub async fn check(&self, buckets: &[(&str, Quota)]) -> Decision {
        let decision = match &self.redis {
            Some(redis) => match self.check_in_redis(redis, buckets).await {
                Ok(decision) => decision,
                Err(err) => {
                    if self.counters.fallbacks.fetch_add(1, Ordering::Relaxed) == 0 {
                        tracing::warn!(error = %err, "rate limits: Redis failed; limiting in process meanwhile");
                    }
                    self.memory.check(buckets)
                }
            },
            None => self.memory.check(buckets),
        };
        if !decision.allowed {
            self.counters.refused.fetch_add(1, Ordering::Relaxed);
        }
        decision
    }

    /// A request from a lease of these buckets, or a call to Redis (taking a new lease).
    async fn check_in_redis(&self, redis: &Arc<RedisLimiter>, buckets: &[(&str, Quota)]) -> Result<Decision, String> {
        let id = buckets.iter().map(|(bucket, _)| *bucket).collect::<Vec<_>>().join("|");
        let cell = self.leases.get_with(id, || {
            let now = Instant::now();
            let idle =
                Decision { allowed: true, limit: 0, remaining: 0, reset: Duration::ZERO, retry_after: Duration::ZERO };
            let lease = Lease {
                tokens: 0,
                until: now,
                decision: idle,
                window_start: now,
                window_count: 0,
                last_window: 0,
                granted: 0,
            };
            Arc::new(LeaseCell {
                lease: Mutex::new(lease),
                refill: tokio::sync::Mutex::new(()),
                prefetching: AtomicBool::new(false),
            })
        });
        let (taken, running_low) = {
            let mut lease = cell.lease();
            let taken = lease.take(Instant::now());
            (taken, lease.running_low())
        };
        if let Some(decision) = taken {
            if running_low && !cell.prefetching.swap(true, Ordering::AcqRel) {
                self.prefetch(redis, &cell, buckets);
            }
            return Ok(decision);
        }
        let _refilling = cell.refill.lock().await;
        let wanted = {
            let mut lease = cell.lease();
            if let Some(decision) = lease.take_leased(Instant::now()) {
                return Ok(decision);
            }
            lease.wanted(buckets)
        };
        self.counters.redis_calls.fetch_add(1, Ordering::Relaxed);
        let (mut decision, taken) = redis.check(buckets, wanted).await?;
        if decision.allowed {
            // (What the lease holds is still this client's to use.)
            let leased = taken.saturating_sub(1);
            decision.remaining = decision.remaining.saturating_add(leased);
            let mut lease = cell.lease();
            lease.tokens = leased;
            lease.granted = leased;
            lease.until = Instant::now() + LEASE_TTL;
            lease.decision = decision;
        }
        Ok(decision)
    }

    /// Takes the next lease of a busy client in the background; the requests taken are added
    /// to what is left (a refusal adds nothing, and the requests after the lease are decided
    /// one at a time again).
    fn prefetch(&self, redis: &Arc<RedisLimiter>, cell: &Arc<LeaseCell>, buckets: &[(&str, Quota)]) {
        let (redis, cell, counters) = (Arc::clone(redis), Arc::clone(cell), Arc::clone(&self.counters));
        let owned: Vec<(String, Quota)> =
            buckets.iter().map(|(bucket, quota)| ((*bucket).to_owned(), *quota)).collect();
        tokio::spawn(async move {
            let buckets: Vec<(&str, Quota)> = owned.iter().map(|(bucket, quota)| (bucket.as_str(), *quota)).collect();
            let _refilling = cell.refill.lock().await;
            let wanted = cell.lease().wanted(&buckets);
            counters.redis_calls.fetch_add(1, Ordering::Relaxed);
            if let Ok((mut decision, taken)) = redis.check(&buckets, wanted).await {
                if decision.allowed {
                    let mut lease = cell.lease();
                    let tokens = if Instant::now() < lease.until { lease.tokens } else { 0 };
                    lease.tokens = tokens.saturating_add(taken);
                    lease.granted = taken;
                    lease.until = Instant::now() + LEASE_TTL;
                    decision.remaining = decision.remaining.saturating_add(lease.tokens);
                    lease.decision = decision;
                }
            }
            cell.prefetching.store(false, Ordering::Release);
        });
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
            let (decision, new_tat) = gcra(tat, 1_000_000, FIVE_PER_SECOND);
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
            tat = gcra(tat, 1_000_000, FIVE_PER_SECOND).1;
        }
        let (refused, _) = gcra(tat, 1_000_000, FIVE_PER_SECOND);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::from_millis(200));
        let later = 1_000_000 + 200_000;
        assert!(gcra(tat, later, FIVE_PER_SECOND).0.allowed);
    }

    #[test]
    fn remaining_counts_down_to_zero() {
        let mut tat = None;
        let mut seen = Vec::new();
        for _ in 0..5 {
            let (decision, new_tat) = gcra(tat, 1_000_000, FIVE_PER_SECOND);
            seen.push(decision.remaining);
            tat = new_tat;
        }
        assert_eq!(seen, [4, 3, 2, 1, 0]);
    }

    #[test]
    fn a_quota_of_a_million_a_tenth_of_a_second_does_not_refuse_a_burst() {
        let quota = Quota { requests: 1_000_000, period: Duration::from_millis(100) };
        let mut tat = None;
        for _ in 0..10_000 {
            let (decision, new_tat) = gcra(tat, 1_000_000, quota);
            assert!(decision.allowed);
            tat = new_tat;
        }
    }

    #[test]
    fn the_memory_limiter_keeps_buckets_apart() {
        let limiter = MemoryLimiter::new(100, Duration::from_secs(60));
        let quota = Quota { requests: 2, period: Duration::from_secs(60) };
        assert!(limiter.check(&[("a", quota)]).allowed);
        assert!(limiter.check(&[("a", quota)]).allowed);
        assert!(!limiter.check(&[("a", quota)]).allowed);
        assert!(limiter.check(&[("b", quota)]).allowed);
    }

    #[test]
    fn a_request_refused_by_one_bucket_takes_nothing_from_the_others() {
        let limiter = MemoryLimiter::new(100, Duration::from_secs(60));
        let (tight, loose) = (
            Quota { requests: 1, period: Duration::from_secs(60) },
            Quota { requests: 2, period: Duration::from_secs(60) },
        );
        assert!(limiter.check(&[("ip", loose), ("key", tight)]).allowed);
        assert!(!limiter.check(&[("ip", loose), ("key", tight)]).allowed);
        let other_key = limiter.check(&[("ip", loose), ("other", tight)]);
        assert!(other_key.allowed, "the refused request took the address's second request");
    }
}
