//! The product lists: the public catalog (`products`, `product`), the vendor's own
//! (`vendorProducts`) and the wishlist, over `catalog::listing`.

use async_graphql::{
    Context, Enum, ID, InputObject, Object,
    connection::{Connection, CursorType},
    dataloader::Loader as _,
};

use super::Product;
use crate::{
    catalog::{
        listing::{self, Want},
        loaders::{InWishlist, ProductById},
        products as service,
        search::{self, Near, ProductCursor, Scope},
    },
    error::{AppError, AppResult},
    graphql::{
        context::ContextExt as _,
        ids::parse_id,
        relay::{self, ConnectionFields, Page},
        scalars::Paise,
    },
    vendors::{loaders::VendorById, service as vendors},
};

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

impl CursorType for ProductCursor {
    type Error = AppError;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        Self::decode(s)
    }

    fn encode_cursor(&self) -> String {
        self.encode()
    }
}

/// A page of products, with the nested fields the query asks for read up front in one batch
/// each (batching by the loader's timer alone splits a big page into several batches when
/// resolving takes longer than the timer); per-user fields are fed to the request's loader.
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
    let node = ctx.look_ahead().field("edges").field("node");
    let want = Want {
        total: ctx.look_ahead().field("totalCount").exists(),
        images: node.field("images").exists(),
    };
    let result = listing::product_page(
        &state.db,
        &state.catalog_cache,
        scope,
        &filter,
        sort,
        &page,
        want,
    )
    .await?;
    // Per-user fields are never cached: one query for the whole page, fed to the loader.
    if let (Some(viewer), true) = (
        ctx.auth().optional_viewer()?,
        node.field("inWishlist").exists(),
    ) {
        let loader = ctx.loader();
        let keys: Vec<_> = result
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
        result.rows.clone(),
        result.total.unwrap_or(0),
        |(cursor, _)| *cursor,
        |(_, row)| Product::from(row),
    ))
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
