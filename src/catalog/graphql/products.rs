//! Products: the public catalog (`products`, `product`), the vendor's own (`vendorProducts`,
//! create/update/delete, images), reviews and the wishlist.

use async_graphql::{
    Context, Enum, ID, InputObject, Object, Upload, connection::Connection, dataloader::Loader as _,
};
use chrono::{DateTime, Utc};
use entity::{product_images, products, reviews};
use sea_orm::TransactionTrait as _;
use std::{collections::HashMap, sync::Arc};
use uuid::Uuid;

use super::Category;
use crate::{
    catalog::{
        cache::{self, CachedPage},
        images,
        loaders::{CategoryById, InWishlist, ProductById, ProductImages},
        products as service, reviews as review_service,
        search::{self, Near, ProductCursor, Scope},
        wishlist,
    },
    error::{AppError, AppResult},
    graphql::{
        context::ContextExt as _,
        ids::parse_id,
        relay::{self, ConnectionFields, Cursor, Page},
        scalars::{Money, Paise},
        upload::read_upload,
    },
    storage::{self, sniff},
    vendors::{graphql::Vendor, loaders::VendorById, service as vendors},
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

/// A product with what its nested fields need, when it was read with the product (a result
/// page joins its vendor and category and loads its images in one batch). The page cache holds
/// these, so a cached page is served by cloning `Arc`s; a product read on its own (an order
/// line, a review) has none of them preloaded and its fields go through the DataLoader.
pub struct ProductRow {
    pub model: products::Model,
    pub vendor: Option<Arc<Vendor>>,
    pub category: Option<Arc<Category>>,
    pub images: Option<Arc<[ProductImage]>>,
    /// From the `near` centre of the search that found it.
    pub distance_km: Option<f64>,
}

impl From<products::Model> for Product {
    fn from(model: products::Model) -> Self {
        Self(Arc::new(ProductRow {
            model,
            vendor: None,
            category: None,
            images: None,
            distance_km: None,
        }))
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

    async fn category(&self, ctx: &Context<'_>) -> AppResult<Option<Arc<Category>>> {
        if let Some(category) = &self.category {
            return Ok(Some(category.clone()));
        }
        Ok(ctx
            .loader()
            .load_one(CategoryById(self.model.category_id))
            .await?
            .map(|c| Arc::new(Category(c))))
    }

    async fn vendor(&self, ctx: &Context<'_>) -> AppResult<Option<Arc<Vendor>>> {
        if let Some(vendor) = &self.vendor {
            return Ok(Some(vendor.clone()));
        }
        Ok(ctx
            .loader()
            .load_one(VendorById(self.model.vendor_id))
            .await?
            .map(|v| Arc::new(Vendor(v))))
    }

    /// Pictures, in display order.
    async fn images(&self, ctx: &Context<'_>) -> AppResult<Arc<[ProductImage]>> {
        if let Some(images) = &self.images {
            return Ok(images.clone());
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

/// A buyer's review of a product they received.
pub struct Review(pub reviews::Model);

#[Object]
impl Review {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// 1 to 5.
    async fn rating(&self) -> i32 {
        i32::from(self.0.rating)
    }

    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }

    /// The reviewer's name only: reviews are public.
    async fn author_name(&self, ctx: &Context<'_>) -> AppResult<String> {
        let user = crate::auth::service::active_user(&ctx.state().db, self.0.buyer_id).await;
        Ok(user.map_or_else(|_| "A former customer".into(), |u| u.full_name))
    }

    async fn product(&self, ctx: &Context<'_>) -> AppResult<Option<Product>> {
        Ok(ctx
            .loader()
            .load_one(ProductById(self.0.product_id))
            .await?
            .map(Product::from))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

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

/// A point and a radius: products of vendors within `radiusKm` of it.
#[derive(InputObject)]
pub struct NearInput {
    pub latitude: f64,
    pub longitude: f64,
    /// At most 200.
    pub radius_km: f64,
}

/// What to list. All given conditions must hold.
#[derive(InputObject, Default)]
pub struct ProductFilter {
    /// This category and all its subcategories.
    pub category_id: Option<ID>,
    pub vendor_id: Option<ID>,
    /// Words that must all start a word of the name or description (`copp wire`).
    pub search: Option<String>,
    /// Lowest unit price, in paise.
    pub min_price: Option<Paise>,
    /// Highest unit price, in paise.
    pub max_price: Option<Paise>,
    /// true: only in stock; false: only out of stock.
    pub in_stock: Option<bool>,
    pub near: Option<NearInput>,
}

impl ProductFilter {
    fn into_service(self) -> AppResult<search::ProductFilter> {
        let id = |field: &str, id: Option<ID>| id.map(|id| parse_id(field, &id)).transpose();
        Ok(search::ProductFilter {
            category_id: id("categoryId", self.category_id)?,
            vendor_id: id("vendorId", self.vendor_id)?,
            search: self.search,
            min_price: self.min_price.map(|p| p.0),
            max_price: self.max_price.map(|p| p.0),
            in_stock: self.in_stock,
            near: self.near.map(|n| Near {
                latitude: n.latitude,
                longitude: n.longitude,
                radius_km: n.radius_km,
            }),
        })
    }
}

/// Order of a product list; ties are broken by id, so paging is stable.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum ProductSort {
    #[default]
    Newest,
    PriceAsc,
    PriceDesc,
    /// Best rated first.
    Rating,
    /// Nearest first; needs `filter.near`.
    Distance,
}

impl From<ProductSort> for search::ProductSort {
    fn from(s: ProductSort) -> Self {
        match s {
            ProductSort::Newest => Self::Newest,
            ProductSort::PriceAsc => Self::PriceAsc,
            ProductSort::PriceDesc => Self::PriceDesc,
            ProductSort::Rating => Self::Rating,
            ProductSort::Distance => Self::Distance,
        }
    }
}

/// Runs a search (its rows come with their vendors and categories) and loads the nested fields
/// the query asks for in one batch each, up front, into ready rows ([`ProductRow`]): batching by
/// the loader's timer alone splits a big page into several batches when resolving takes longer
/// than the timer. Public pages are cached as ready rows.
pub async fn product_page(
    ctx: &Context<'_>,
    scope: Scope,
    filter: search::ProductFilter,
    sort: search::ProductSort,
    first: Option<i32>,
    after: Option<String>,
) -> AppResult<Connection<ProductCursor, Product, ConnectionFields>> {
    let page = Page::<ProductCursor>::new(first, after)?;
    let state = ctx.state();
    let cache = &state.catalog_cache;
    let node = ctx.look_ahead().field("edges").field("node");
    let want_total = ctx.look_ahead().field("totalCount").exists();
    let want_images = node.field("images").exists();
    // Public pages are the same for everyone: serve them from memory for a moment.
    let page_key =
        (scope == Scope::Public).then(|| cache::key(&(&filter, sort, page.limit, page.after)));
    let cached = page_key
        .as_deref()
        .and_then(|k| cache.page(k))
        .filter(|p| (!want_total || p.total.is_some()) && (!want_images || p.has_images));
    let cached = match cached {
        Some(hit) => hit,
        None => {
            let generation = cache.generation();
            let total = if want_total {
                search::Total::Counted(Some(cache))
            } else {
                search::Total::Skip
            };
            let result = search::search(&state.db, scope, &filter, sort, &page, total).await?;
            let images = if want_images {
                let keys: Vec<_> = result
                    .hits
                    .iter()
                    .map(|h| ProductImages(h.product.id))
                    .collect();
                Some(ctx.loader().loader().load(&keys).await?)
            } else {
                None
            };
            let fresh = Arc::new(ready_page(
                result.hits,
                want_total.then_some(result.total),
                images,
            ));
            if let Some(key) = page_key {
                cache.put_page(key, generation, fresh.clone());
            }
            fresh
        }
    };
    // Per-user fields are never cached: one query for the whole page, fed to the loader.
    if let (Some(viewer), true) = (
        ctx.auth().optional_viewer()?,
        node.field("inWishlist").exists(),
    ) {
        let loader = ctx.loader();
        let keys: Vec<_> = cached
            .rows
            .iter()
            .map(|(_, row)| InWishlist {
                user: viewer.user_id,
                product: row.model.id,
            })
            .collect();
        let found = loader.loader().load(&keys).await?;
        loader.feed_many(found).await;
    }
    Ok(relay::connection(
        &page,
        cached.rows.clone(),
        cached.total.unwrap_or(0),
        |(cursor, _)| *cursor,
        |(_, row)| Product(row),
    ))
}

/// The ready rows of a page: each vendor and category wrapped once and shared by its products.
fn ready_page(
    hits: Vec<search::Hit>,
    total: Option<i64>,
    mut images: Option<HashMap<ProductImages, Vec<product_images::Model>>>,
) -> CachedPage {
    let mut vendors: HashMap<Uuid, Arc<Vendor>> = HashMap::new();
    let mut categories: HashMap<Uuid, Arc<Category>> = HashMap::new();
    let has_images = images.is_some();
    let rows = hits
        .into_iter()
        .map(|hit| {
            let vendor = vendors
                .entry(hit.vendor.id)
                .or_insert_with(|| Arc::new(Vendor(hit.vendor)))
                .clone();
            let category = categories
                .entry(hit.category.id)
                .or_insert_with(|| Arc::new(Category(hit.category)))
                .clone();
            let images = images.as_mut().map(|all| {
                all.remove(&ProductImages(hit.product.id))
                    .unwrap_or_default()
                    .into_iter()
                    .map(ProductImage)
                    .collect()
            });
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
    CachedPage {
        rows,
        total,
        has_images,
    }
}

#[derive(Default)]
pub struct ProductsQuery;

#[Object]
impl ProductsQuery {
    /// The public catalog: active products of approved vendors.
    async fn products(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProductFilter>,
        sort: Option<ProductSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Connection<ProductCursor, Product, ConnectionFields>> {
        let filter = filter.unwrap_or_default().into_service()?;
        let sort = sort.unwrap_or_default().into();
        product_page(ctx, Scope::Public, filter, sort, first, after).await
    }

    /// A product. Unlisted products (inactive, or of a vendor not approved) are visible only
    /// to their vendor and admins; deleted ones to nobody.
    async fn product(&self, ctx: &Context<'_>, id: ID) -> AppResult<Option<Product>> {
        let id = parse_id("id", &id)?;
        let viewer = ctx.auth().optional_viewer()?;
        let Some(product) = ctx.loader().load_one(ProductById(id)).await? else {
            return Ok(None);
        };
        let Some(vendor) = ctx.loader().load_one(VendorById(product.vendor_id)).await? else {
            return Ok(None);
        };
        Ok(service::may_see(viewer.as_ref(), &product, &vendor).then(|| product.into()))
    }

    /// The signed-in vendor's own products, listed or not, newest first.
    async fn vendor_products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Connection<ProductCursor, Product, ConnectionFields>> {
        let viewer = ctx.viewer()?;
        let vendor = vendors::require_own(&ctx.state().db, viewer.user_id).await?;
        let scope = Scope::Vendor(vendor.id);
        let filter = search::ProductFilter::default();
        product_page(
            ctx,
            scope,
            filter,
            search::ProductSort::Newest,
            first,
            after,
        )
        .await
    }

    /// The signed-in user's saved products that are still listed, newest first.
    async fn wishlist(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Connection<ProductCursor, Product, ConnectionFields>> {
        let viewer = ctx.viewer()?;
        let scope = Scope::Wishlist(viewer.user_id);
        let filter = search::ProductFilter::default();
        product_page(
            ctx,
            scope,
            filter,
            search::ProductSort::Newest,
            first,
            after,
        )
        .await
    }
}

/// A review as entered.
#[derive(InputObject)]
pub struct ReviewInput {
    pub product_id: ID,
    /// 1 to 5.
    pub rating: i32,
    pub comment: Option<String>,
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
