//! The product as the API shows it: `Product` (over a domain row, with its vendor, category
//! and images when a page read them), its unit and its pictures.

use async_graphql::{Context, Enum, ID, Object, connection::Connection};
use chrono::{DateTime, Utc};
use entity::{product_images, products};
use std::sync::Arc;

use super::{Category, Review};
use crate::{
    catalog::{
        loaders::{CategoryById, InWishlist, ProductImages},
        reviews as review_service,
        rows::ProductRow,
    },
    error::AppResult,
    graphql::{
        context::ContextExt as _,
        relay::{self, ConnectionFields, Cursor, Page},
        scalars::{Money, Paise},
    },
    storage,
    vendors::{graphql::Vendor, loaders::VendorById},
};

/// How a product is sold.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ProductUnit {
    Kg,
    Piece,
    Litre,
    Tonne,
}

impl From<ProductUnit> for products::Unit {
    fn from(u: ProductUnit) -> Self {
        match u {
            ProductUnit::Kg => Self::Kg,
            ProductUnit::Piece => Self::Piece,
            ProductUnit::Litre => Self::Litre,
            ProductUnit::Tonne => Self::Tonne,
        }
    }
}

impl From<products::Unit> for ProductUnit {
    fn from(u: products::Unit) -> Self {
        match u {
            products::Unit::Kg => Self::Kg,
            products::Unit::Piece => Self::Piece,
            products::Unit::Litre => Self::Litre,
            products::Unit::Tonne => Self::Tonne,
        }
    }
}

/// A scrap lot a vendor sells.
pub struct Product(Arc<ProductRow>);

impl From<products::Model> for Product {
    fn from(model: products::Model) -> Self {
        Self(Arc::new(model.into()))
    }
}

impl From<Arc<ProductRow>> for Product {
    fn from(row: Arc<ProductRow>) -> Self {
        Self(row)
    }
}

impl std::ops::Deref for Product {
    type Target = ProductRow;

    fn deref(&self) -> &ProductRow {
        &self.0
    }
}

#[Object]
impl Product {
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.model.name
    }

    async fn description(&self) -> Option<&str> {
        self.model.description.as_deref()
    }

    /// Unit price in paise.
    async fn price(&self) -> Paise {
        Paise(self.model.price)
    }

    /// Unit price with currency and formatting.
    async fn price_money(&self) -> Money {
        Money::inr(self.model.price)
    }

    async fn unit(&self) -> ProductUnit {
        self.model.unit.into()
    }

    /// Units available to order.
    async fn stock(&self) -> i32 {
        self.model.stock
    }

    /// Whether the vendor offers it now (inactive products are not listed).
    async fn is_active(&self) -> bool {
        self.model.is_active
    }

    async fn category(&self, ctx: &Context<'_>) -> AppResult<Option<Category>> {
        if let Some(category) = &self.category {
            return Ok(Some(Category(category.as_ref().clone())));
        }
        Ok(ctx
            .loader()
            .load_one(CategoryById(self.model.category_id))
            .await?
            .map(Category))
    }

    async fn vendor(&self, ctx: &Context<'_>) -> AppResult<Option<Vendor>> {
        if let Some(vendor) = &self.vendor {
            return Ok(Some(Vendor(vendor.as_ref().clone())));
        }
        Ok(ctx
            .loader()
            .load_one(VendorById(self.model.vendor_id))
            .await?
            .map(Vendor))
    }

    /// Pictures, in display order.
    async fn images(&self, ctx: &Context<'_>) -> AppResult<Vec<ProductImage>> {
        if let Some(images) = &self.images {
            return Ok(images.iter().cloned().map(ProductImage).collect());
        }
        Ok(ctx
            .loader()
            .load_one(ProductImages(self.model.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(ProductImage)
            .collect())
    }

    /// Average review rating, 1–5; 0 without reviews. A score, not money.
    async fn rating(&self) -> f64 {
        self.model.rating
    }

    async fn review_count(&self) -> i32 {
        self.model.review_count
    }

    /// Reviews, newest first.
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Connection<Cursor, Review, ConnectionFields>> {
        let page = Page::<Cursor>::new(first, after)?;
        let (rows, total) = review_service::page(&ctx.state().db, self.model.id, &page).await?;
        Ok(relay::connection(
            &page,
            rows,
            total,
            |r| Cursor {
                at: r.created_at,
                id: r.id,
            },
            Review,
        ))
    }

    /// Whether the signed-in user saved it; false when anonymous.
    async fn in_wishlist(&self, ctx: &Context<'_>) -> AppResult<bool> {
        let Some(viewer) = ctx.auth().optional_viewer()? else {
            return Ok(false);
        };
        Ok(ctx
            .loader()
            .load_one(InWishlist {
                user: viewer.user_id,
                product: self.model.id,
            })
            .await?
            .unwrap_or(false))
    }

    /// Distance in km from the `near` point of the search; null outside a nearby search.
    async fn distance_km(&self) -> Option<f64> {
        self.distance_km
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at
    }
}

/// A product picture, public.
pub struct ProductImage(pub product_images::Model);

#[Object]
impl ProductImage {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Path under this server: `/media/products/…`.
    async fn url(&self) -> String {
        storage::url(&self.0.storage_key)
    }

    async fn content_type(&self) -> &str {
        &self.0.content_type
    }

    /// Display order, ascending.
    async fn position(&self) -> i32 {
        self.0.position
    }
}
