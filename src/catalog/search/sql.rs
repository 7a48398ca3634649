//! The SQL pieces of a search: the conditions of a scope and a filter, the distance expression,
//! the text match (the one place where SQLite and PostgreSQL differ) and the sort expression.

use std::collections::{HashMap, HashSet, VecDeque};

use entity::{
    categories, products,
    vendors::{self, KycStatus},
    wishlist_items,
};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DbBackend, EntityTrait as _, QuerySelect as _,
    sea_query::{Condition, Expr, ExprTrait as _, Query, SelectStatement},
};
use uuid::Uuid;

use super::filter::{Near, ProductFilter, ProductSort, Scope, search_words};
use crate::{error::AppResult, geo};

/// Kilometres per degree of latitude.
const KM_PER_DEGREE: f64 = geo::EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;

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
pub(super) fn distance2(near: Near) -> Expr {
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

/// What a row must satisfy to be listed in `scope` under `filter`; None when nothing can match.
pub(super) async fn conditions(
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

/// Products joined with their vendors, under `cond`.
pub(super) fn base(cond: Condition) -> SelectStatement {
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

/// The sort expression and whether it ascends (ties are broken by id in the same direction).
pub(super) fn sort_expr(sort: ProductSort, near: Option<Near>) -> (Expr, bool) {
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
