//! One loader per key at a time: concurrent misses on the same key wait for the first
//! caller's load instead of each querying the database (no stampede).
//!
//! Keys must include the cache generation the callers saw, so a caller that starts after a
//! write (and therefore sees a newer generation) never joins a load that began before it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

type Calls<T> = Arc<Mutex<HashMap<String, Arc<OnceCell<T>>>>>;

pub struct SingleFlight<T: Clone> {
    calls: Calls<T>,
    /// A finished load stays joinable this long. A caller whose cache lookup missed just
    /// before the load filled the cache would otherwise start a second load; the result is
    /// still valid for it, because the key carries the generation the caller saw.
    linger: std::time::Duration,
}

impl<T: Clone + Send + Sync + 'static> SingleFlight<T> {
    pub fn with_linger(linger: std::time::Duration) -> Self {
        Self { calls: Arc::new(Mutex::new(HashMap::new())), linger }
    }

    /// Runs `load` unless a load for `key` is running or just finished, in which case
    /// shares its result. `keep` decides whether a result may be shared after it finished
    /// (errors should not be).
    pub async fn run<F, Fut>(&self, key: String, load: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        self.run_keeping(key, load, |_| true).await
    }

    pub async fn run_keeping<F, Fut>(&self, key: String, load: F, keep: impl Fn(&T) -> bool) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let cell = self.calls.lock().ok().map(|mut calls| calls.entry(key.clone()).or_default().clone());
        // A poisoned map only loses de-duplication, never correctness.
        let Some(cell) = cell else { return load().await };
        let value = cell.get_or_init(load).await.clone();
        let calls = self.calls.clone();
        let forget = move || {
            if let Ok(mut calls) = calls.lock() {
                if calls.get(&key).is_some_and(|current| Arc::ptr_eq(current, &cell)) {
                    calls.remove(&key);
                }
            }
        };
        if keep(&value) && !self.linger.is_zero() {
            let linger = self.linger;
            tokio::spawn(async move {
                tokio::time::sleep(linger).await;
                forget();
            });
        } else {
            forget();
        }
        value
    }

    /// Loads in progress (for tests).
    pub fn in_flight(&self) -> usize {
        self.calls.lock().map(|c| c.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn concurrent_callers_share_one_load() {
        let flights = Arc::new(SingleFlight::<u32>::with_linger(Duration::ZERO));
        let loads = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (flights, loads) = (flights.clone(), loads.clone());
            tasks.push(tokio::spawn(async move {
                flights
                    .run("k@0".into(), || async move {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        7
                    })
                    .await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.expect("task"), 7);
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert_eq!(flights.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_call_after_the_linger_loads_again() {
        let flights = SingleFlight::<u32>::with_linger(Duration::from_millis(20));
        assert_eq!(flights.run("k".into(), || async { 1 }).await, 1);
        assert_eq!(flights.run("k".into(), || async { 2 }).await, 1);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(flights.run("k".into(), || async { 3 }).await, 3);
    }

    #[tokio::test]
    async fn failed_loads_are_not_shared_after_they_finish() {
        let flights = SingleFlight::<Result<u32, ()>>::with_linger(Duration::from_secs(60));
        let failed = flights.run_keeping("k".into(), || async { Err(()) }, Result::is_ok).await;
        assert!(failed.is_err());
        assert_eq!(flights.run_keeping("k".into(), || async { Ok(2) }, Result::is_ok).await, Ok(2));
    }

    #[tokio::test]
    async fn a_later_call_loads_again_without_linger() {
        let flights = SingleFlight::<u32>::with_linger(Duration::ZERO);
        assert_eq!(flights.run("k".into(), || async { 1 }).await, 1);
        assert_eq!(flights.run("k".into(), || async { 2 }).await, 2);
    }
}
