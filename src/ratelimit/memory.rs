//! Fixed-window counters in this process's memory (the embedded mode: one instance): a bounded
//! cache (`moka`) whose entries expire when their window ends, so a spray of distinct IPs or
//! emails can neither grow it without bound nor wipe the live counters (the least recently
//! used keys go first when it is full).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use moka::{Expiry, sync::Cache};

/// How many keys the counters keep at most.
const MAX_KEYS: u64 = 100_000;

struct Window {
    resets_at: Instant,
    count: AtomicU64,
}

/// An entry lives until its window ends.
struct UntilReset;

impl Expiry<String, Arc<Window>> for UntilReset {
    fn expire_after_create(
        &self,
        _key: &String,
        window: &Arc<Window>,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(window.resets_at.saturating_duration_since(created_at))
    }
}

pub struct MemoryCounters {
    windows: Cache<String, Arc<Window>>,
}

impl Default for MemoryCounters {
    fn default() -> Self {
        Self {
            windows: Cache::builder()
                .max_capacity(MAX_KEYS)
                .expire_after(UntilReset)
                .build(),
        }
    }
}

impl MemoryCounters {
    /// Counts a hit on `key`; returns the count in the current window and the seconds until it
    /// resets.
    pub fn hit(&self, key: &str, window_secs: u64) -> (u64, u64) {
        let now = Instant::now();
        let fresh = || {
            Arc::new(Window {
                resets_at: now + Duration::from_secs(window_secs),
                count: AtomicU64::new(0),
            })
        };
        let mut window = self.windows.get_with(key.to_owned(), fresh);
        if window.resets_at <= now {
            // Ended but not yet evicted: start the next window.
            window = fresh();
            self.windows.insert(key.to_owned(), window.clone());
        }
        let count = window.count.fetch_add(1, Ordering::Relaxed) + 1;
        let resets_in = window
            .resets_at
            .saturating_duration_since(now)
            .as_secs_f64()
            .ceil() as u64;
        (count, resets_in)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_count_within_a_window_and_keys_are_apart() {
        let counters = MemoryCounters::default();
        assert_eq!(counters.hit("a", 60).0, 1);
        assert_eq!(counters.hit("a", 60).0, 2);
        let (count, resets_in) = counters.hit("b", 60);
        assert_eq!(count, 1);
        assert!((59..=60).contains(&resets_in));
    }
}
