//! One loader per key at a time: concurrent misses on the same key wait for the first
//! caller's load instead of each querying the database (no stampede).
//!
//! Keys must include the cache generation the callers saw, so a caller that starts after a
//! write (and therefore sees a newer generation) never joins a load that began before it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

pub struct SingleFlight<T: Clone> {
    calls: Mutex<HashMap<String, Arc<OnceCell<T>>>>,
}

impl<T: Clone> Default for SingleFlight<T> {
    fn default() -> Self {
        Self { calls: Mutex::new(HashMap::new()) }
    }
}

impl<T: Clone> SingleFlight<T> {
    /// Runs `load` unless a load for `key` is already running, in which case waits for it.
    pub async fn run<F, Fut>(&self, key: String, load: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let cell = self.calls.lock().ok().map(|mut calls| calls.entry(key.clone()).or_default().clone());
        // A poisoned map only loses de-duplication, never correctness.
        let Some(cell) = cell else { return load().await };
        let value = cell.get_or_init(load).await.clone();
        if let Ok(mut calls) = self.calls.lock() {
            if calls.get(&key).is_some_and(|current| Arc::ptr_eq(current, &cell)) {
                calls.remove(&key);
            }
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
        let flights = Arc::new(SingleFlight::<u32>::default());
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
    async fn a_later_call_loads_again() {
        let flights = SingleFlight::<u32>::default();
        assert_eq!(flights.run("k".into(), || async { 1 }).await, 1);
        assert_eq!(flights.run("k".into(), || async { 2 }).await, 2);
    }
}
