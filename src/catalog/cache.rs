//! Short-lived caches of the public catalog: `totalCount` per filter, and whole result pages
//! (domain rows with their vendors, categories and images, [`ProductPage`]) per filter, sort,
//! position and the parts asked for. Counting every listed product is the most expensive part
//! of a page, and the public pages are the hottest reads of the marketplace, identical for every
//! visitor; both barely move between two page views.
//!
//! Both are bounded TTL caches (`moka`): at most [`MAX_COUNTS`] counts and [`MAX_PAGE_ROWS`]
//! rows of pages, least used first out (keys come from user input), each entry gone after its
//! TTL (`CATALOG_COUNT_TTL_MS`, default 2 s; `CATALOG_PAGE_TTL_MS`, default 1 s; 0 turns a cache
//! off). Concurrent misses of one key wait for one computation instead of each running it.
//!
//! Listing changes made on this instance (products created, changed or deleted, images added
//! or removed, a KYC decision, a vendor moving) clear both at once: the key carries a
//! generation counter, so an answer computed before a change is never served after it. Anything
//! else — stock sold through orders, writes on another instance — shows within the TTLs. Orders
//! never trust a listed stock figure: placement re-checks stock with a conditional update.
//! Per-user fields (`inWishlist`) are never cached.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use moka::future::Cache;

use super::rows::ProductPage;
use crate::error::{AppError, AppResult};

/// The most counts kept (one per public filter).
pub const MAX_COUNTS: u64 = 10_000;
/// The most page rows kept, all pages together (a page weighs its rows).
pub const MAX_PAGE_ROWS: u64 = 20_000;

type Key = (u64, String);

#[derive(Debug)]
pub struct CatalogCache {
    generation: AtomicU64,
    counts: Option<Cache<Key, i64>>,
    pages: Option<Cache<Key, Arc<ProductPage>>>,
}

impl CatalogCache {
    pub fn new(count_ttl: Duration, page_ttl: Duration) -> Self {
        let counts = (!count_ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(MAX_COUNTS)
                .time_to_live(count_ttl)
                .build()
        });
        let pages = (!page_ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(MAX_PAGE_ROWS)
                .weigher(|_: &Key, page: &Arc<ProductPage>| {
                    u32::try_from(page.rows.len() + 1).unwrap_or(u32::MAX)
                })
                .time_to_live(page_ttl)
                .build()
        });
        Self {
            generation: AtomicU64::new(0),
            counts,
            pages,
        }
    }

    /// The count under `key`, from the cache or from `count` (stored for the next callers).
    pub async fn count_with(
        &self,
        key: String,
        count: impl Future<Output = AppResult<i64>>,
    ) -> AppResult<i64> {
        match &self.counts {
            Some(cache) => cache
                .try_get_with((self.generation(), key), count)
                .await
                .map_err(unshare),
            None => count.await,
        }
    }

    /// The page under `key`, from the cache or from `read` (stored for the next callers).
    pub async fn page_with(
        &self,
        key: String,
        read: impl Future<Output = AppResult<Arc<ProductPage>>>,
    ) -> AppResult<Arc<ProductPage>> {
        match &self.pages {
            Some(cache) => cache
                .try_get_with((self.generation(), key), read)
                .await
                .map_err(unshare),
            None => read.await,
        }
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Forgets everything: the listed set changed.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        // Entries of old generations are never read again: free their memory now, not at
        // their TTL.
        if let Some(counts) = &self.counts {
            counts.invalidate_all();
        }
        if let Some(pages) = &self.pages {
            pages.invalidate_all();
        }
    }
}

/// The error of a computation that other callers waited on.
fn unshare(err: Arc<AppError>) -> AppError {
    Arc::unwrap_or_clone(err)
}

/// A cache key from anything with a stable `Debug` form.
pub fn key(parts: &impl std::fmt::Debug) -> String {
    format!("{parts:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_expire_and_are_cleared_by_a_catalog_change() -> AppResult<()> {
        let cache = CatalogCache::new(Duration::from_secs(60), Duration::from_secs(60));
        assert_eq!(cache.count_with("all".into(), async { Ok(7) }).await?, 7);
        assert_eq!(cache.count_with("all".into(), async { Ok(8) }).await?, 7);
        cache.invalidate();
        assert_eq!(cache.count_with("all".into(), async { Ok(9) }).await?, 9);

        let off = CatalogCache::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(off.count_with("all".into(), async { Ok(1) }).await?, 1);
        assert_eq!(off.count_with("all".into(), async { Ok(2) }).await?, 2);

        let page = |total| async move {
            Ok(Arc::new(ProductPage {
                rows: Vec::new(),
                total: Some(total),
            }))
        };
        assert_eq!(cache.page_with("p".into(), page(1)).await?.total, Some(1));
        assert_eq!(cache.page_with("p".into(), page(2)).await?.total, Some(1));
        cache.invalidate();
        assert_eq!(cache.page_with("p".into(), page(3)).await?.total, Some(3));
        Ok(())
    }

    #[tokio::test]
    async fn concurrent_misses_of_one_key_share_one_computation() {
        let cache = CatalogCache::new(Duration::from_secs(60), Duration::ZERO);
        let runs = AtomicU64::new(0);
        let count = || async {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok(5)
        };
        let all =
            futures_util::future::join_all((0..8).map(|_| cache.count_with("all".into(), count())))
                .await;
        assert!(all.iter().all(|c| c.as_ref().ok() == Some(&5)));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_computation_is_not_stored() {
        let cache = CatalogCache::new(Duration::from_secs(60), Duration::ZERO);
        let failed = cache
            .count_with("all".into(), async { Err(AppError::not_found("x")) })
            .await;
        assert!(failed.is_err());
        assert_eq!(
            cache.count_with("all".into(), async { Ok(3) }).await.ok(),
            Some(3)
        );
    }
}
