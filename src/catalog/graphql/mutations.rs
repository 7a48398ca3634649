//! What vendors and buyers change in the catalog: products and their pictures, the
//! wishlist, reviews.

use async_graphql::{Context, ID, InputObject, Object, Upload};
use sea_orm::TransactionTrait as _;

use super::{Product, ProductImage, ProductUnit, Review, ReviewInput};
use crate::{
    catalog::{images, products as service, reviews as review_service, wishlist},
    error::{AppError, AppResult},
    graphql::{context::ContextExt as _, ids::parse_id, scalars::Paise, upload::read_upload},
    storage::sniff,
    vendors::service as vendors,
};

/// A product as entered by its vendor.
#[derive(InputObject)]
pub struct ProductInput {
    pub name: String,
    pub description: Option<String>,
    pub category_id: ID,
    pub unit: ProductUnit,
    /// Unit price in paise.
    pub price: Paise,
    pub stock: i32,
    /// Defaults to true on create, unchanged on update.
    pub is_active: Option<bool>,
}

impl ProductInput {
    fn into_service(self) -> AppResult<service::ProductInput> {
        Ok(service::ProductInput {
            category_id: parse_id("categoryId", &self.category_id)?,
            name: self.name,
            description: self.description,
            unit: self.unit.into(),
            price: self.price.0,
            stock: self.stock,
            is_active: self.is_active,
        })
    }
}

#[derive(Default)]
pub struct ProductsMutation;

#[Object]
impl ProductsMutation {
    /// Vendor: adds a product (listed once active and the vendor is approved).
    async fn create_product(&self, ctx: &Context<'_>, input: ProductInput) -> AppResult<Product> {
        let viewer = ctx.viewer()?;
        let db = &ctx.state().db;
        let vendor = vendors::require_own(db, viewer.user_id).await?;
        let created = service::create(db, &vendor, input.into_service()?).await?;
        ctx.state().catalog_cache.invalidate();
        Ok(created.into())
    }

    /// Vendor: replaces one of its products' fields.
    async fn update_product(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ProductInput,
    ) -> AppResult<Product> {
        let viewer = ctx.viewer()?;
        let id = parse_id("id", &id)?;
        let db = &ctx.state().db;
        let vendor = vendors::require_own(db, viewer.user_id).await?;
        let updated = service::update(db, &vendor, id, input.into_service()?).await?;
        ctx.state().catalog_cache.invalidate();
        Ok(updated.into())
    }

    /// Vendor: removes one of its products from the catalog (orders keep their lines).
    async fn delete_product(&self, ctx: &Context<'_>, id: ID) -> AppResult<bool> {
        let viewer = ctx.viewer()?;
        let id = parse_id("id", &id)?;
        let db = &ctx.state().db;
        let vendor = vendors::require_own(db, viewer.user_id).await?;
        let deleted = service::delete(db, &vendor, id).await?;
        ctx.state().catalog_cache.invalidate();
        Ok(deleted)
    }

    /// Vendor: adds a picture (JPEG, PNG or WebP, up to `MAX_UPLOAD_BYTES`) after the last one.
    async fn add_product_image(
        &self,
        ctx: &Context<'_>,
        product_id: ID,
        file: Upload,
    ) -> AppResult<ProductImage> {
        let viewer = ctx.viewer()?;
        let product_id = parse_id("productId", &product_id)?;
        let state = ctx.state();
        let vendor = vendors::require_own(&state.db, viewer.user_id).await?;
        let product = service::own(&state.db, &vendor, product_id).await?;
        let (bytes, kind) = read_upload(ctx, "file", &file, sniff::IMAGES)?;
        let image = images::add(&state.db, &state.storage, &product, &bytes, kind).await?;
        state.catalog_cache.invalidate();
        Ok(ProductImage(image))
    }

    /// Vendor: removes a picture of one of its products.
    async fn remove_product_image(&self, ctx: &Context<'_>, id: ID) -> AppResult<bool> {
        let viewer = ctx.viewer()?;
        let id = parse_id("id", &id)?;
        let state = ctx.state();
        let vendor = vendors::require_own(&state.db, viewer.user_id).await?;
        let removed = images::remove(&state.db, &state.storage, &vendor, id).await?;
        state.catalog_cache.invalidate();
        Ok(removed)
    }

    /// Saves or unsaves a listed product; returns true when it is now in the wishlist.
    async fn toggle_wishlist(&self, ctx: &Context<'_>, product_id: ID) -> AppResult<bool> {
        let viewer = ctx.viewer()?;
        let product_id = parse_id("productId", &product_id)?;
        let db = &ctx.state().db;
        let visible = match service::find(db, product_id).await? {
            Some(p) => {
                let vendor = vendors::find(db, p.vendor_id).await?;
                service::may_see(Some(&viewer), &p, &vendor)
            }
            None => false,
        };
        if !visible {
            return Err(AppError::not_found("product"));
        }
        wishlist::toggle(db, viewer.user_id, product_id).await
    }

    /// Reviews a product the caller received in a delivered order; one review per product.
    async fn create_review(&self, ctx: &Context<'_>, input: ReviewInput) -> AppResult<Review> {
        let viewer = ctx.viewer()?;
        let product_id = parse_id("productId", &input.product_id)?;
        let txn = ctx.state().db.begin().await?;
        let review = review_service::create(
            &txn,
            viewer.user_id,
            review_service::ReviewInput {
                product_id,
                rating: input.rating,
                comment: input.comment,
            },
        )
        .await?;
        txn.commit().await?;
        Ok(Review(review))
    }
}
