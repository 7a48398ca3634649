//! Short-lived caches of the public catalog: `totalCount` per filter, and whole result pages
//! (the rows of a `products` page with their vendors, categories and images) per filter, sort
//! and position. Counting every listed product is the most expensive part of a page, and the
//! public pages are the hottest reads of the marketplace, identical for every visitor; both
//! barely move between two page views.
//!
//! Listing changes made on this instance (products created, changed or deleted, images added
//! or removed, a KYC decision, a vendor moving) clear both at once (a generation counter: an
//! answer computed before a change is never stored after it). Anything else — stock sold
//! through orders, writes on another instance — shows within the TTLs (`CATALOG_COUNT_TTL_MS`,
//! default 2 s; `CATALOG_PAGE_TTL_MS`, default 1 s; 0 turns a cache off). Orders never trust a
//! listed stock figure: placement re-checks stock with a conditional update. Per-user fields
//! (`inWishlist`) are never cached.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use super::{graphql::ProductRow, search::ProductCursor};

/// Past this many keys a map starts over (keys come from user input).
const MAX_ENTRIES: usize = 4096;

/// A cached `products` page: ready rows, so serving it clones `Arc`s and nothing else.
pub struct CachedPage {
    /// Up to `limit + 1` rows, in the search's order, with their vendors and categories (and
    /// images, when `has_images`).
    pub rows: Vec<(ProductCursor, Arc<ProductRow>)>,
    /// The total, when it was asked for.
    pub total: Option<i64>,
    /// Whether every row carries its images.
    pub has_images: bool,
}

impl std::fmt::Debug for CachedPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedPage")
            .field("rows", &self.rows.len())
            .field("total", &self.total)
            .field("has_images", &self.has_images)
            .finish()
    }
}

#[derive(Debug)]
struct TtlMap<V> {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, u64, V)>>,
}

impl<V: Clone> TtlMap<V> {
    fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &str, generation: u64) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        let (at, r#gen, value) = entries.get(key)?;
        (*r#gen == generation && at.elapsed() < self.ttl).then(|| value.clone())
    }

    fn put(&self, key: String, generation: u64, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), generation, value));
        }
    }
}

#[derive(Debug)]
pub struct CatalogCache {
    generation: AtomicU64,
    counts: TtlMap<i64>,
    pages: TtlMap<Arc<CachedPage>>,
}

impl CatalogCache {
    pub fn new(count_ttl: Duration, page_ttl: Duration) -> Self {
        Self {
            generation: AtomicU64::new(0),
            counts: TtlMap::new(count_ttl),
            pages: TtlMap::new(page_ttl),
        }
    }

    /// The current generation: read it before computing, hand it back when storing.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn count(&self, key: &str) -> Option<i64> {
        self.counts.get(key, self.generation())
    }

    /// Stores a count made at `generation`, unless the catalog changed meanwhile.
    pub fn put_count(&self, key: String, generation: u64, count: i64) {
        if generation == self.generation() {
            self.counts.put(key, generation, count);
        }
    }

    pub fn page(&self, key: &str) -> Option<Arc<CachedPage>> {
        self.pages.get(key, self.generation())
    }

    /// Stores a page made at `generation`, unless the catalog changed meanwhile.
    pub fn put_page(&self, key: String, generation: u64, page: Arc<CachedPage>) {
        if generation == self.generation() {
            self.pages.put(key, generation, page);
        }
    }

    /// Forgets everything: the listed set changed.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

/// A cache key from anything with a stable `Debug` form.
pub fn key(parts: &impl std::fmt::Debug) -> String {
    format!("{parts:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_expire_and_are_cleared_by_a_catalog_change() {
        let cache = CatalogCache::new(Duration::from_secs(60), Duration::from_secs(60));
        let generation = cache.generation();
        cache.put_count("all".into(), generation, 7);
        assert_eq!(cache.count("all"), Some(7));
        cache.invalidate();
        assert_eq!(cache.count("all"), None);
        // A count started before a change is not stored after it.
        cache.put_count("all".into(), generation, 7);
        assert_eq!(cache.count("all"), None);
        let off = CatalogCache::new(Duration::ZERO, Duration::ZERO);
        off.put_count("all".into(), off.generation(), 1);
        assert_eq!(off.count("all"), None);
        let page = Arc::new(CachedPage {
            rows: Vec::new(),
            total: Some(0),
            has_images: false,
        });
        cache.put_page("p".into(), cache.generation(), page);
        assert!(cache.page("p").is_some());
        cache.invalidate();
        assert!(cache.page("p").is_none());
    }
}
