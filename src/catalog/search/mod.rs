//! `products(filter, sort, first, after)`: the SQL of a page and of its total, on SQLite and
//! PostgreSQL alike. The page statement joins the vendor and the category (their columns come
//! back with the row, so their loaders need no query) and pages by keyset on (sort key, id): a
//! row comparison `(key, id) < (…, …)` that an index on the same columns answers by seeking, so
//! the default sort walks `idx_products_newest` backwards from the cursor and stops at the
//! limit, reading only the rows it returns, however big the catalog. The total is a statement
//! of its own ([`Search::count`]), run only when `totalCount` is asked for (and, for the public
//! catalog, served from the count cache: see `catalog::listing`).
//!
//! Where the two databases differ, `sql` hides it:
//! - text search is word-prefix matching of every search word in name and description: a GIN
//!   `tsvector` index with `word:*` queries on PostgreSQL, `LIKE '% word%'` on SQLite;
//! - distance: SQLite has no trigonometry, so the SQL filters and sorts by an equirectangular
//!   distance whose longitude scale is linearised around the search centre (error far below a
//!   metre per km at marketplace radii); `distanceKm` itself is the exact haversine, in Rust.

mod cursor;
mod filter;
mod sql;

use chrono::{DateTime, Utc};
use entity::{categories, products, vendors};
use sea_orm::{
    ConnectionTrait, FromQueryResult as _, IdenStatic as _, Iterable as _,
    sea_query::{Alias, Condition, Expr, ExprTrait as _, Order, SelectStatement},
};

pub use cursor::ProductCursor;
use cursor::SortKey;
pub use filter::{MAX_RADIUS_KM, Near, ProductFilter, ProductSort, Scope, check, search_words};

use crate::{
    error::{AppError, AppResult, ResultExt as _},
    geo,
    paging::Page,
};

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

/// A checked search with its conditions resolved (the category subtree read once), ready to
/// read pages and the total.
#[derive(Debug, Clone)]
pub struct Search {
    cond: Condition,
    near: Option<Near>,
    sort: ProductSort,
}

impl Search {
    /// None when nothing can match (a search of punctuation only).
    pub async fn new(
        conn: &impl ConnectionTrait,
        scope: Scope,
        filter: &ProductFilter,
        sort: ProductSort,
    ) -> AppResult<Option<Self>> {
        check(filter, sort)?;
        Ok(sql::conditions(conn, scope, filter)
            .await?
            .map(|cond| Self {
                cond,
                near: filter.near,
                sort,
            }))
    }

    /// The statement of one page: up to `limit + 1` rows after the cursor (the extra one only
    /// says there is a next page), with their vendors and categories.
    pub fn page_statement(&self, page: &Page<ProductCursor>) -> AppResult<SelectStatement> {
        let (key, ascending) = sql::sort_expr(self.sort, self.near);
        let id = Expr::col((products::Entity, products::Column::Id));
        let mut cond = self.cond.clone();
        if let Some(after) = page.after {
            let value = match (self.sort, after.key) {
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
            // (key, id) beyond (value, after.id): one row comparison, which an index on
            // (key, id) answers by seeking to the cursor instead of filtering from the start.
            let row = Expr::tuple([key.clone(), id.clone()]);
            let at = Expr::tuple([value, Expr::val(after.id)]);
            cond = cond.add(if ascending { row.gt(at) } else { row.lt(at) });
        }
        let mut q = sql::base(cond);
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
        if self.sort == ProductSort::Distance {
            // The cursor carries the SQL's own distance, so the next page starts exactly there.
            q.expr_as(key.clone(), Alias::new("sort_key"));
        }
        let order = if ascending { Order::Asc } else { Order::Desc };
        q.order_by_expr(key, order.clone())
            .order_by_expr(id, order)
            .limit(page.limit + 1);
        Ok(q)
    }

    /// The statement of the total: every matching product, counted.
    pub fn count_statement(&self) -> SelectStatement {
        let mut q = sql::base(self.cond.clone());
        q.expr_as(Expr::cust("COUNT(*)"), Alias::new("total_count"));
        q
    }

    /// One page of hits.
    pub async fn page(
        &self,
        conn: &impl ConnectionTrait,
        page: &Page<ProductCursor>,
    ) -> AppResult<Vec<Hit>> {
        let rows = conn.query_all(&self.page_statement(page)?).await?;
        let mut hits = Vec::with_capacity(rows.len());
        for row in rows {
            let product = products::Model::from_query_result(&row, "")?;
            let vendor = vendors::Model::from_query_result(&row, "v_")?;
            let category = categories::Model::from_query_result(&row, "c_")?;
            let key = match self.sort {
                ProductSort::Newest => SortKey::Int(product.created_at.timestamp_micros()),
                ProductSort::PriceAsc | ProductSort::PriceDesc => SortKey::Int(product.price),
                ProductSort::Rating => SortKey::Float(product.rating),
                ProductSort::Distance => SortKey::Float(
                    row.try_get::<f64>("", "sort_key")
                        .context_internal("read sort_key")?,
                ),
            };
            let distance_km = self.near.map(|n| {
                geo::distance_km(n.latitude, n.longitude, vendor.latitude, vendor.longitude)
            });
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
        Ok(hits)
    }

    /// How many products match (all pages).
    pub async fn count(&self, conn: &impl ConnectionTrait) -> AppResult<i64> {
        let row = conn.query_one(&self.count_statement()).await?;
        match row {
            Some(row) => row
                .try_get::<i64>("", "total_count")
                .context_internal("read total_count"),
            None => Ok(0),
        }
    }
}
