//! `products(filter, sort, first, after)`: one SQL statement per page, on SQLite and PostgreSQL
//! alike. The statement joins the vendor (its columns come back with the row, so the vendor
//! and category loaders are primed for free), carries the total count as an uncorrelated subquery (only when
//! `totalCount` is asked for and no recent count is cached, see `cache`), and pages
//! by keyset on (sort key, id), so pages stay stable while products are added.
//!
//! Where the two databases differ, this module hides it:
//! - text search is word-prefix matching of every search word in name and description: a GIN
//!   `tsvector` index with `word:*` queries on PostgreSQL, `LIKE '% word%'` on SQLite;
//! - distance: SQLite has no trigonometry, so the SQL filters and sorts by an equirectangular
//!   distance whose longitude scale is linearised around the search centre (error far below a
//!   metre per km at marketplace radii); `distanceKm` itself is the exact haversine, in Rust.

use std::collections::{HashMap, HashSet, VecDeque};

use async_graphql::connection::CursorType;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use entity::{
    categories, products,
    vendors::{self, KycStatus},
    wishlist_items,
};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DbBackend, EntityTrait as _, FromQueryResult as _,
    IdenStatic as _, Iterable as _, QuerySelect as _,
    sea_query::{Alias, Condition, Expr, ExprTrait as _, Order, Query, SelectStatement},
};
use uuid::Uuid;

use super::cache::CatalogCache;
use crate::{
    error::{AppError, AppResult, ResultExt as _},
    geo,
    graphql::relay::Page,
};

/// Kilometres per degree of latitude.
const KM_PER_DEGREE: f64 = geo::EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;
/// The widest nearby search.
pub const MAX_RADIUS_KM: f64 = 200.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    pub latitude: f64,
    pub longitude: f64,
    pub radius_km: f64,
}

#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    pub category_id: Option<Uuid>,
    pub vendor_id: Option<Uuid>,
    pub search: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub in_stock: Option<bool>,
    pub near: Option<Near>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProductSort {
    #[default]
    Newest,
    PriceAsc,
    PriceDesc,
    Rating,
    Distance,
}

/// Whose view of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Listed products only: active, not deleted, of an APPROVED vendor.
    Public,
    /// A vendor's own products, listed or not (not deleted).
    Vendor(Uuid),
    /// A user's wishlist: the listed products in it.
    Wishlist(Uuid),
}

/// A keyset position: the sort key of the last row and its id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProductCursor {
    key: SortKey,
    id: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum SortKey {
    Int(i64),
    Float(f64),
}

impl CursorType for ProductCursor {
    type Error = AppError;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bad = || AppError::bad_input("after", "invalid cursor");
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut parts = text.splitn(3, '|');
        let (Some(tag), Some(key), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let key = match tag {
            "i" => SortKey::Int(key.parse().map_err(|_| bad())?),
            "f" => SortKey::Float(f64::from_bits(
                u64::from_str_radix(key, 16).map_err(|_| bad())?,
            )),
            _ => return Err(bad()),
        };
        Ok(Self {
            key,
            id: id.parse().map_err(|_| bad())?,
        })
    }

    fn encode_cursor(&self) -> String {
        let text = match self.key {
            SortKey::Int(v) => format!("i|{v}|{}", self.id),
            SortKey::Float(v) => format!("f|{:x}|{}", v.to_bits(), self.id),
        };
        URL_SAFE_NO_PAD.encode(text)
    }
}

/// One row of a result page.
#[derive(Debug, Clone)]
pub struct Hit {
    pub product: products::Model,
    pub vendor: vendors::Model,
    pub category: categories::Model,
    /// Exact distance from the `near` centre, when one was given.
    pub distance_km: Option<f64>,
    pub cursor: ProductCursor,
}

#[derive(Debug, Clone)]
pub struct SearchPage {
    /// Up to `limit + 1` rows: the extra one only says there is a next page.
    pub hits: Vec<Hit>,
    pub total: i64,
}

/// Lower-cased search words: letters and digits only, at most 8 of at most 40 characters.
pub fn search_words(raw: &str) -> Vec<String> {
    raw.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(40).collect::<String>().to_lowercase())
        .take(8)
        .collect()
}

fn check(filter: &ProductFilter, sort: ProductSort) -> AppResult<()> {
    for (field, price) in [
        ("minPrice", filter.min_price),
        ("maxPrice", filter.max_price),
    ] {
        if price.is_some_and(|p| p < 0) {
            return Err(AppError::bad_input(field, "must not be negative"));
        }
    }
    if let Some(near) = filter.near {
        geo::check_point(near.latitude, near.longitude)
            .map_err(|field| AppError::bad_input(field, "is not a valid coordinate"))?;
        if !near.radius_km.is_finite() || near.radius_km <= 0.0 || near.radius_km > MAX_RADIUS_KM {
            return Err(AppError::bad_input(
                "radiusKm",
                format!("must be more than 0 and at most {MAX_RADIUS_KM}"),
            ));
        }
    } else if sort == ProductSort::Distance {
        return Err(AppError::bad_input(
            "sort",
            "sorting by distance needs a `near` filter",
        ));
    }
    Ok(())
}

/// The category and all its descendants.
async fn subtree(conn: &impl ConnectionTrait, root: Uuid) -> AppResult<Vec<Uuid>> {
    let all: Vec<(Uuid, Option<Uuid>)> = categories::Entity::find()
        .select_only()
        .column(categories::Column::Id)
        .column(categories::Column::ParentId)
        .into_tuple()
        .all(conn)
        .await?;
    let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (id, parent) in all {
        if let Some(parent) = parent {
            children.entry(parent).or_default().push(id);
        }
    }
    let mut seen = HashSet::from([root]);
    let mut queue = VecDeque::from([root]);
    while let Some(next) = queue.pop_front() {
        for child in children.get(&next).into_iter().flatten() {
            if seen.insert(*child) {
                queue.push_back(*child);
            }
        }
    }
    Ok(seen.into_iter().collect())
}

/// The squared planar distance (km²) from the centre to the vendor, as SQL.
fn distance2(near: Near) -> Expr {
    let lat0 = near.latitude.to_radians();
    let (s0, c0) = lat0.sin_cos();
    let dlat = Expr::col((vendors::Entity, vendors::Column::Latitude)).sub(near.latitude);
    let dlon = Expr::col((vendors::Entity, vendors::Column::Longitude)).sub(near.longitude);
    // cos(mid latitude) ≈ cos(lat0) − sin(lat0)·Δlat/2, in radians: linear, so portable SQL.
    let scale = Expr::val(KM_PER_DEGREE * c0).sub(
        dlat.clone()
            .mul(KM_PER_DEGREE * s0 * std::f64::consts::PI / 360.0),
    );
    let dx = dlon.mul(scale);
    let dy = dlat.mul(KM_PER_DEGREE);
    dx.clone().mul(dx).add(dy.clone().mul(dy))
}

fn text_condition(backend: DbBackend, words: &[String]) -> Condition {
    match backend {
        DbBackend::Postgres => {
            let query = words
                .iter()
                .map(|w| format!("{w}:*"))
                .collect::<Vec<_>>()
                .join(" & ");
            Condition::all().add(Expr::cust_with_values(
                "to_tsvector('simple', products.name || ' ' || coalesce(products.description, '')) \
                 @@ to_tsquery('simple', $1)",
                [query],
            ))
        }
        _ => {
            let mut all = Condition::all();
            for word in words {
                // Punctuation becomes a space, so a word after a hyphen or comma still starts a word.
                all = all.add(Expr::cust_with_values(
                    "(' ' || lower(replace(replace(replace(replace(products.name || ' ' || \
                     coalesce(products.description, ''), '-', ' '), ',', ' '), '.', ' '), '/', ' '))) \
                     LIKE ?",
                    [format!("% {word}%")],
                ));
            }
            all
        }
    }
}

async fn conditions(
    conn: &impl ConnectionTrait,
    scope: Scope,
    filter: &ProductFilter,
) -> AppResult<Option<Condition>> {
    use products::Column as P;
    let col = |c: P| Expr::col((products::Entity, c));
    let mut cond = Condition::all().add(col(P::DeletedAt).is_null());
    match scope {
        Scope::Public | Scope::Wishlist(_) => {
            cond = cond.add(col(P::IsActive).eq(true)).add(
                Expr::col((vendors::Entity, vendors::Column::KycStatus)).eq(KycStatus::Approved),
            );
        }
        Scope::Vendor(vendor) => cond = cond.add(col(P::VendorId).eq(vendor)),
    }
    if let Scope::Wishlist(user) = scope {
        let mut saved = Query::select();
        saved
            .column(wishlist_items::Column::ProductId)
            .from(wishlist_items::Entity)
            .and_where(wishlist_items::Column::UserId.eq(user));
        cond = cond.add(col(P::Id).in_subquery(saved));
    }
    if let Some(category) = filter.category_id {
        cond = cond.add(col(P::CategoryId).is_in(subtree(conn, category).await?));
    }
    if let Some(vendor) = filter.vendor_id {
        cond = cond.add(col(P::VendorId).eq(vendor));
    }
    if let Some(min) = filter.min_price {
        cond = cond.add(col(P::Price).gte(min));
    }
    if let Some(max) = filter.max_price {
        cond = cond.add(col(P::Price).lte(max));
    }
    match filter.in_stock {
        Some(true) => cond = cond.add(col(P::Stock).gt(0)),
        Some(false) => cond = cond.add(col(P::Stock).eq(0)),
        None => {}
    }
    if let Some(raw) = &filter.search {
        let words = search_words(raw);
        if words.is_empty() && !raw.trim().is_empty() {
            // Only punctuation: nothing can match.
            return Ok(None);
        }
        if !words.is_empty() {
            cond = cond.add(text_condition(conn.get_database_backend(), &words));
        }
    }
    if let Some(near) = filter.near {
        let b = geo::bounding_box(near.latitude, near.longitude, near.radius_km);
        let v = |c: vendors::Column| Expr::col((vendors::Entity, c));
        cond = cond
            .add(v(vendors::Column::Latitude).between(b.min_lat, b.max_lat))
            .add(v(vendors::Column::Longitude).between(b.min_lon, b.max_lon))
            .add(distance2(near).lte(near.radius_km * near.radius_km));
    }
    Ok(Some(cond))
}

fn base(cond: Condition) -> SelectStatement {
    let mut q = Query::select();
    q.from(products::Entity)
        .inner_join(
            vendors::Entity,
            Expr::col((vendors::Entity, vendors::Column::Id))
                .equals((products::Entity, products::Column::VendorId)),
        )
        .cond_where(cond);
    q
}

/// The sort expression, whether it ascends, and how to read a row's key back.
fn sort_expr(sort: ProductSort, near: Option<Near>) -> (Expr, bool) {
    use products::Column as P;
    let col = |c: P| Expr::col((products::Entity, c));
    match (sort, near) {
        (ProductSort::PriceAsc, _) => (col(P::Price), true),
        (ProductSort::PriceDesc, _) => (col(P::Price), false),
        (ProductSort::Rating, _) => (col(P::Rating), false),
        (ProductSort::Distance, Some(near)) => (distance2(near), true),
        _ => (col(P::CreatedAt), false),
    }
}

/// One page of products.
pub async fn search(
    conn: &impl ConnectionTrait,
    scope: Scope,
    filter: &ProductFilter,
    sort: ProductSort,
    page: &Page<ProductCursor>,
    total: Total<'_>,
) -> AppResult<SearchPage> {
    check(filter, sort)?;
    // Only the public catalog's counts are shared between callers.
    let cache_key = match (scope, total) {
        (Scope::Public, Total::Counted(Some(_))) => Some(format!("{filter:?}")),
        _ => None,
    };
    let cache = match total {
        Total::Counted(cache) => cache,
        Total::Skip => None,
    };
    let generation = cache.map(CatalogCache::generation);
    let cached = cache
        .zip(cache_key.as_deref())
        .and_then(|(c, k)| c.count(k));
    let count_now = matches!(total, Total::Counted(_)) && cached.is_none();
    let Some(cond) = conditions(conn, scope, filter).await? else {
        return Ok(SearchPage {
            hits: Vec::new(),
            total: 0,
        });
    };
    let (key, ascending) = sort_expr(sort, filter.near);
    let id = Expr::col((products::Entity, products::Column::Id));

    let mut count = base(cond.clone());
    count.expr(Expr::cust("COUNT(*)"));

    let mut paged = cond;
    if let Some(after) = page.after {
        let value = match (sort, after.key) {
            (ProductSort::Newest, SortKey::Int(micros)) => Expr::val(
                DateTime::<Utc>::from_timestamp_micros(micros)
                    .ok_or_else(|| AppError::bad_input("after", "invalid cursor"))?,
            ),
            (ProductSort::PriceAsc | ProductSort::PriceDesc, SortKey::Int(price)) => {
                Expr::val(price)
            }
            (ProductSort::Rating | ProductSort::Distance, SortKey::Float(v)) => Expr::val(v),
            _ => {
                return Err(AppError::bad_input(
                    "after",
                    "the cursor is from another sort",
                ));
            }
        };
        let beyond = if ascending {
            Condition::any()
                .add(key.clone().gt(value.clone()))
                .add(key.clone().eq(value).and(id.clone().gt(after.id)))
        } else {
            Condition::any()
                .add(key.clone().lt(value.clone()))
                .add(key.clone().eq(value).and(id.clone().lt(after.id)))
        };
        paged = paged.add(beyond);
    }
    let mut q = base(paged);
    q.columns(products::Column::iter().map(|c| (products::Entity, c)));
    for c in vendors::Column::iter() {
        q.expr_as(
            Expr::col((vendors::Entity, c)),
            Alias::new(format!("v_{}", c.as_str())),
        );
    }
    // The category too (a product always has one), so the category loader needs no query.
    q.inner_join(
        categories::Entity,
        Expr::col((categories::Entity, categories::Column::Id))
            .equals((products::Entity, products::Column::CategoryId)),
    );
    for c in categories::Column::iter() {
        q.expr_as(
            Expr::col((categories::Entity, c)),
            Alias::new(format!("c_{}", c.as_str())),
        );
    }
    if count_now {
        q.expr_as(count, Alias::new("total_count"));
    }
    q.expr_as(key.clone(), Alias::new("sort_key"));
    let order = if ascending { Order::Asc } else { Order::Desc };
    q.order_by_expr(key, order.clone())
        .order_by_expr(id, order)
        .limit(page.limit + 1);

    let rows = conn.query_all(&q).await?;
    let mut total = cached.unwrap_or(0);
    let mut hits = Vec::with_capacity(rows.len());
    for row in rows {
        let product = products::Model::from_query_result(&row, "")?;
        let vendor = vendors::Model::from_query_result(&row, "v_")?;
        let category = categories::Model::from_query_result(&row, "c_")?;
        if count_now {
            total = row
                .try_get::<i64>("", "total_count")
                .context_internal("read total_count")?;
        }
        let key = match sort {
            ProductSort::Newest => SortKey::Int(product.created_at.timestamp_micros()),
            ProductSort::PriceAsc | ProductSort::PriceDesc => SortKey::Int(product.price),
            ProductSort::Rating => SortKey::Float(product.rating),
            ProductSort::Distance => SortKey::Float(
                row.try_get::<f64>("", "sort_key")
                    .context_internal("read sort_key")?,
            ),
        };
        let distance_km = filter
            .near
            .map(|n| geo::distance_km(n.latitude, n.longitude, vendor.latitude, vendor.longitude));
        hits.push(Hit {
            cursor: ProductCursor {
                key,
                id: product.id,
            },
            product,
            vendor,
            category,
            distance_km,
        });
    }
    if hits.is_empty() && count_now {
        // Past the last page the page query has no row to carry the count.
        let cond = conditions(conn, scope, filter)
            .await?
            .unwrap_or_else(Condition::all);
        let mut count = base(cond);
        count.expr_as(Expr::cust("COUNT(*)"), Alias::new("total_count"));
        let row = conn.query_one(&count).await?;
        total = match row {
            Some(row) => row
                .try_get::<i64>("", "total_count")
                .context_internal("read total_count")?,
            None => 0,
        };
    }
    if let (true, Some(cache), Some(key), Some(generation)) =
        (count_now, cache, cache_key, generation)
    {
        cache.put_count(key, generation, total);
    }
    Ok(SearchPage { hits, total })
}

/// Whether a search reports its total count, and where it may find a recent one.
#[derive(Debug, Clone, Copy)]
pub enum Total<'a> {
    /// Nobody asked for `totalCount`: do not count.
    Skip,
    /// Count, or take a fresh count of the same public filter from the cache.
    Counted(Option<&'a CatalogCache>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_are_plain_lowercase_words() {
        assert_eq!(search_words("Copper-Wire, 99%!"), ["copper", "wire", "99"]);
        assert!(search_words("  %%% ").is_empty());
        assert_eq!(search_words("a b c d e f g h i j").len(), 8);
    }

    #[test]
    fn cursors_round_trip_exactly() {
        for key in [SortKey::Int(-5), SortKey::Float(0.1 + 0.2)] {
            let cursor = ProductCursor {
                key,
                id: Uuid::new_v4(),
            };
            assert_eq!(
                ProductCursor::decode_cursor(&cursor.encode_cursor()).ok(),
                Some(cursor)
            );
        }
        assert!(ProductCursor::decode_cursor("x").is_err());
    }
}
