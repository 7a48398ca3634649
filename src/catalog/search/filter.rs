//! What a search asks for: the scope, the filter and the sort, and the checks they pass
//! before any SQL runs.

use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    geo,
};

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

/// Lower-cased search words: letters and digits only, at most 8 of at most 40 characters.
pub fn search_words(raw: &str) -> Vec<String> {
    raw.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(40).collect::<String>().to_lowercase())
        .take(8)
        .collect()
}

/// Refuses a filter or a sort that cannot be searched (negative prices, a bad centre or
/// radius, a distance sort without a centre).
pub fn check(filter: &ProductFilter, sort: ProductSort) -> AppResult<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_are_plain_lowercase_words() {
        assert_eq!(search_words("Copper-Wire, 99%!"), ["copper", "wire", "99"]);
        assert!(search_words("  %%% ").is_empty());
        assert_eq!(search_words("a b c d e f g h i j").len(), 8);
    }
}
