//! Product pages as the API serves them: a search's rows with their vendors, categories and,
//! when asked for, images and total, ready to serve ([`ProductPage`]). Public pages go through
//! the page cache, public totals through the count cache (see `cache`); a vendor's own list and
//! a wishlist are read fresh every time. A page reads its rows and its total concurrently, on
//! two connections of the pool.

use std::{collections::HashMap, sync::Arc};

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{
    cache::{self, CatalogCache},
    images,
    rows::{ProductPage, ProductRow},
    search::{Hit, ProductCursor, ProductFilter, ProductSort, Scope, Search},
};
use crate::{error::AppResult, paging::Page};

/// The parts of a page the caller will serve besides the rows, vendors and categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Want {
    /// `totalCount`.
    pub total: bool,
    /// The products' images.
    pub images: bool,
}

/// One page of `scope` under `filter` and `sort`.
pub async fn product_page(
    conn: &impl ConnectionTrait,
    cache: &CatalogCache,
    scope: Scope,
    filter: &ProductFilter,
    sort: ProductSort,
    page: &Page<ProductCursor>,
    want: Want,
) -> AppResult<Arc<ProductPage>> {
    let read = read_page(conn, cache, scope, filter, sort, page, want);
    if scope == Scope::Public {
        // Public pages are the same for everyone: serve them from memory for a moment.
        let key = cache::key(&(filter, sort, page.limit, page.after, want));
        cache.page_with(key, read).await
    } else {
        read.await
    }
}

async fn read_page(
    conn: &impl ConnectionTrait,
    cache: &CatalogCache,
    scope: Scope,
    filter: &ProductFilter,
    sort: ProductSort,
    page: &Page<ProductCursor>,
    want: Want,
) -> AppResult<Arc<ProductPage>> {
    let Some(search) = Search::new(conn, scope, filter, sort).await? else {
        return Ok(Arc::new(ProductPage {
            rows: Vec::new(),
            total: want.total.then_some(0),
        }));
    };
    let rows = async {
        let hits = search.page(conn, page).await?;
        let images = if want.images {
            let ids: Vec<Uuid> = hits.iter().map(|h| h.product.id).collect();
            Some(images::of_products(conn, &ids).await?)
        } else {
            None
        };
        AppResult::Ok((hits, images))
    };
    let total = async {
        if !want.total {
            return Ok(None);
        }
        let count = search.count(conn);
        if scope == Scope::Public {
            // Only the public catalog's counts are shared between callers.
            cache.count_with(cache::key(filter), count).await.map(Some)
        } else {
            count.await.map(Some)
        }
    };
    let ((hits, images), total) = tokio::try_join!(rows, total)?;
    Ok(Arc::new(ready_page(hits, total, images)))
}

/// The ready rows of a page: each vendor and category wrapped once and shared by its products.
fn ready_page(
    hits: Vec<Hit>,
    total: Option<i64>,
    mut images: Option<HashMap<Uuid, Vec<entity::product_images::Model>>>,
) -> ProductPage {
    let mut vendors = HashMap::new();
    let mut categories = HashMap::new();
    let rows = hits
        .into_iter()
        .map(|hit| {
            let vendor = vendors
                .entry(hit.vendor.id)
                .or_insert_with(|| Arc::new(hit.vendor))
                .clone();
            let category = categories
                .entry(hit.category.id)
                .or_insert_with(|| Arc::new(hit.category))
                .clone();
            let images = images
                .as_mut()
                .map(|all| all.remove(&hit.product.id).unwrap_or_default().into());
            let row = ProductRow {
                model: hit.product,
                vendor: Some(vendor),
                category: Some(category),
                images,
                distance_km: hit.distance_km,
            };
            (hit.cursor, Arc::new(row))
        })
        .collect();
    ProductPage { rows, total }
}
