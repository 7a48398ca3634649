//! Fixed-window counters in this process's memory (the embedded mode: one instance).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Above this many keys, expired windows are swept before a new key is added, so the map
/// cannot grow without bound under a spray of distinct IPs or emails.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Default)]
pub struct MemoryCounters {
    windows: Mutex<HashMap<String, (Instant, u64)>>,
}

impl MemoryCounters {
    /// Counts a hit on `key`; returns the count in the current window and the seconds until it
    /// resets.
    pub fn hit(&self, key: &str, window_secs: u64) -> (u64, u64) {
        let now = Instant::now();
        let window = Duration::from_secs(window_secs);
        // A poisoned lock only means another thread panicked mid-update of a counter; the
        // counts are still usable.
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > SWEEP_ABOVE && !windows.contains_key(key) {
            windows.retain(|_, (resets_at, _)| *resets_at > now);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now + window, 0));
        if entry.0 <= now {
            *entry = (now + window, 0);
        }
        entry.1 += 1;
        let resets_in = entry.0.saturating_duration_since(now).as_secs_f64().ceil() as u64;
        (entry.1, resets_in)
    }
}
