//! The in-process backend of embedded mode: one process, so one map and one set of
//! generations, compared and bumped under one lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{CacheCounters, CacheSettings, Generation, Lookup};

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

/// The in-process map has one epoch for its whole life.
const EPOCH: u64 = 0;

pub struct MemoryCache {
    entries: moka::sync::Cache<String, Arc<Entry>>,
    /// key → (generation, last bump). Guarded by one mutex so fill's compare-and-set and
    /// invalidation's bump-and-delete are atomic with respect to each other.
    generations: Mutex<HashMap<String, (u64, Instant)>>,
    pub(super) settings: CacheSettings,
    pub(super) counters: CacheCounters,
}

impl MemoryCache {
    pub(super) fn new(settings: CacheSettings) -> Self {
        let entries =
            moka::sync::Cache::builder().max_capacity(settings.memory_capacity).expire_after(PerEntryTtl).build();
        Self { entries, generations: Mutex::new(HashMap::new()), settings, counters: CacheCounters::default() }
    }

    pub(super) fn lookup(&self, key: &str) -> Lookup {
        if let Some(entry) = self.entries.get(key) {
            return Lookup::Hit(entry.value.clone());
        }
        Lookup::Miss { generation: Some(self.generation(key)) }
    }

    pub(super) fn generation(&self, key: &str) -> Generation {
        let number = self.generations.lock().ok().and_then(|g| g.get(key).map(|(n, _)| *n)).unwrap_or(0);
        Generation { epoch: EPOCH, number }
    }

    pub(super) fn fill(&self, key: &str, generation: Generation, value: Bytes, ttl: Duration) -> bool {
        let Ok(generations) = self.generations.lock() else { return false };
        let current = Generation { epoch: EPOCH, number: generations.get(key).map_or(0, |(n, _)| *n) };
        if current != generation {
            return false;
        }
        self.entries.insert(key.to_owned(), Arc::new(Entry { value, ttl }));
        true
    }

    pub(super) fn get(&self, key: &str) -> Option<Bytes> {
        self.entries.get(key).map(|e| e.value.clone())
    }

    pub(super) fn set(&self, key: &str, value: Bytes, ttl: Duration) {
        self.entries.insert(key.to_owned(), Arc::new(Entry { value, ttl }));
    }

    pub(super) fn invalidate(&self, keys: &[String]) {
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
    use moka::Expiry;

    #[test]
    fn each_entry_expires_after_its_own_ttl() {
        let entry = Arc::new(Entry { value: Bytes::from_static(b"v"), ttl: Duration::from_millis(1234) });
        let now = Instant::now();
        assert_eq!(PerEntryTtl.expire_after_create(&"k".to_owned(), &entry, now), Some(Duration::from_millis(1234)));
        let renewed = PerEntryTtl.expire_after_update(&"k".to_owned(), &entry, now, Some(Duration::from_secs(9)));
        assert_eq!(renewed, Some(Duration::from_millis(1234)));
    }
}
