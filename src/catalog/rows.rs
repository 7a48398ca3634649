//! A product as a result page serves it: the product with what its nested fields need, read
//! with it (a page joins its vendor and category and loads its images in one batch). Plain
//! domain rows behind `Arc`s: the page cache holds them, so a cached page is served by cloning
//! `Arc`s. A product read on its own (an order line, a review) has none of them preloaded.

use std::sync::Arc;

use entity::{categories, product_images, products, vendors};

use super::search::ProductCursor;

#[derive(Debug)]
pub struct ProductRow {
    pub model: products::Model,
    pub vendor: Option<Arc<vendors::Model>>,
    pub category: Option<Arc<categories::Model>>,
    /// In display order; None when the page was read without them.
    pub images: Option<Arc<[product_images::Model]>>,
    /// From the `near` centre of the search that found it.
    pub distance_km: Option<f64>,
}

impl From<products::Model> for ProductRow {
    fn from(model: products::Model) -> Self {
        Self {
            model,
            vendor: None,
            category: None,
            images: None,
            distance_km: None,
        }
    }
}

/// One page of a product list, ready to serve.
#[derive(Debug, Default)]
pub struct ProductPage {
    /// Up to `limit + 1` rows, in the search's order (the extra one only says there is a
    /// next page).
    pub rows: Vec<(ProductCursor, Arc<ProductRow>)>,
    /// The total of all pages, when it was asked for.
    pub total: Option<i64>,
}
