//! A short-lived cache of the public catalog's `totalCount` per filter. Counting every listed
//! product is the most expensive part of a product page (a scan, where the page itself is an
//! index walk), and the number barely moves between two page views. Listing changes made on this
//! instance (products created, changed or deleted, a KYC decision, a vendor moving) clear it at
//! once; anything else (stock sold through orders, writes on another instance) shows within the
//! TTL (`CATALOG_COUNT_TTL_MS`, default 2 s; 0 turns the cache off).

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

/// Past this many filters the cache starts over (filters are user input).
const MAX_ENTRIES: usize = 4096;

#[derive(Debug)]
pub struct CountCache {
    ttl: Duration,
    generation: AtomicU64,
    entries: Mutex<HashMap<String, (Instant, u64, i64)>>,
}

impl CountCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The current generation: read it before counting, hand it back to [`Self::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn get(&self, key: &str) -> Option<i64> {
        if self.ttl.is_zero() {
            return None;
        }
        let generation = self.generation();
        let entries = self.entries.lock().ok()?;
        let (at, r#gen, count) = entries.get(key)?;
        (*r#gen == generation && at.elapsed() < self.ttl).then_some(*count)
    }

    /// Stores a count made at `generation`, unless the catalog changed meanwhile.
    pub fn put(&self, key: String, generation: u64, count: i64) {
        if self.ttl.is_zero() || generation != self.generation() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), generation, count));
        }
    }

    /// Forgets every count: the listed set changed.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_expire_and_are_cleared_by_a_catalog_change() {
        let cache = CountCache::new(Duration::from_secs(60));
        let generation = cache.generation();
        cache.put("all".into(), generation, 7);
        assert_eq!(cache.get("all"), Some(7));
        cache.invalidate();
        assert_eq!(cache.get("all"), None);
        // A count started before a change is not stored after it.
        cache.put("all".into(), generation, 7);
        assert_eq!(cache.get("all"), None);
        let off = CountCache::new(Duration::ZERO);
        off.put("all".into(), off.generation(), 1);
        assert_eq!(off.get("all"), None);
    }
}
