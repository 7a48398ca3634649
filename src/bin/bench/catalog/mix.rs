//! The varied catalog load: product pages over several filters (category, price range, `near`,
//! and two sorts), each followed for several pages by its cursor, so that no cache can serve
//! them all; and the same pages' main SQL statement for pgbench, built by the code the server
//! runs (`catalog::search`).

use kabaadwala::{
    catalog::search::{Near, ProductCursor, ProductFilter, ProductSort, Scope, Search},
    paging::Page,
};
use sea_orm::{DatabaseConnection, sea_query::PostgresQueryBuilder};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::http::{self, Client};

/// The page every request asks for: 50 products with vendor, category, images and rating, the
/// total and the cursor.
pub const PAGE_QUERY: &str = "query($filter: ProductFilter, $sort: ProductSort, $after: String) { products(filter: $filter, sort: $sort, first: 50, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id name price rating reviewCount vendor { id businessName } category { id name } images { url } } } } }";
const PAGE_SIZE: u64 = 50;
/// Pages followed per filter.
const PAGES_PER_FILTER: usize = 8;

/// One filter and sort of the mix.
#[derive(Debug, Clone, Copy)]
struct Spec {
    /// Index into the seeded categories.
    category: Option<usize>,
    price: Option<(i64, i64)>,
    /// Latitude, longitude, radius in km (the vendors sit on a 10 × 10 grid, 0.03° apart,
    /// from 28.5 N 77.0 E).
    near: Option<(f64, f64, f64)>,
    sort: ProductSort,
}

fn specs() -> Vec<Spec> {
    let s = |category, price, near, sort| Spec {
        category,
        price,
        near,
        sort,
    };
    use ProductSort::{Newest, PriceAsc};
    vec![
        s(None, None, None, Newest),
        s(Some(0), None, None, Newest),
        s(Some(1), None, None, Newest),
        s(Some(2), None, None, Newest),
        s(Some(3), None, None, Newest),
        s(Some(4), None, None, Newest),
        s(None, Some((2_000, 5_000)), None, Newest),
        s(None, Some((5_000, 9_000)), None, Newest),
        s(None, None, Some((28.6, 77.1, 5.0)), Newest),
        s(None, None, Some((28.7, 77.2, 8.0)), Newest),
        s(Some(0), Some((3_000, 8_000)), None, Newest),
        s(Some(2), None, Some((28.6, 77.1, 10.0)), Newest),
        s(
            None,
            Some((1_000, 4_000)),
            Some((28.55, 77.05, 6.0)),
            Newest,
        ),
        s(None, None, None, PriceAsc),
        s(Some(3), Some((4_000, 10_000)), None, PriceAsc),
    ]
}

impl Spec {
    fn variables_filter(&self, categories: &[Uuid]) -> Value {
        let mut filter = serde_json::Map::new();
        if let Some(c) = self.category {
            filter.insert("categoryId".into(), json!(categories[c]));
        }
        if let Some((min, max)) = self.price {
            filter.insert("minPrice".into(), json!(min));
            filter.insert("maxPrice".into(), json!(max));
        }
        if let Some((latitude, longitude, radius_km)) = self.near {
            filter.insert(
                "near".into(),
                json!({ "latitude": latitude, "longitude": longitude, "radiusKm": radius_km }),
            );
        }
        Value::Object(filter)
    }

    fn filter(&self, categories: &[Uuid]) -> ProductFilter {
        ProductFilter {
            category_id: self.category.map(|c| categories[c]),
            min_price: self.price.map(|p| p.0),
            max_price: self.price.map(|p| p.1),
            near: self.near.map(|(latitude, longitude, radius_km)| Near {
                latitude,
                longitude,
                radius_km,
            }),
            ..ProductFilter::default()
        }
    }

    fn sort_name(&self) -> &'static str {
        match self.sort {
            ProductSort::PriceAsc => "PRICE_ASC",
            ProductSort::PriceDesc => "PRICE_DESC",
            ProductSort::Rating => "RATING",
            ProductSort::Distance => "DISTANCE",
            ProductSort::Newest => "NEWEST",
        }
    }
}

/// The requests of the varied load, one per (filter, page).
pub struct Mix {
    pub requests: Vec<Vec<u8>>,
    pub filters: usize,
    pages: Vec<(Spec, Option<String>)>,
    categories: Vec<Uuid>,
}

impl Mix {
    /// Follows each filter's pages through the server at `addr` to learn their cursors.
    pub async fn walk(addr: std::net::SocketAddr, categories: &[Uuid]) -> anyhow::Result<Self> {
        let mut client = Client::connect(addr).await?;
        let specs = specs();
        let mut mix = Self {
            requests: Vec::new(),
            filters: specs.len(),
            pages: Vec::new(),
            categories: categories.to_vec(),
        };
        for spec in specs {
            let mut after: Option<String> = None;
            for _ in 0..PAGES_PER_FILTER {
                let body = json!({ "query": PAGE_QUERY, "variables": {
                    "filter": spec.variables_filter(categories),
                    "sort": spec.sort_name(),
                    "after": after,
                }});
                let request = http::post_json(&body, None);
                anyhow::ensure!(
                    client.call(&request).await?,
                    "a page of {spec:?} failed: {}",
                    String::from_utf8_lossy(client.body())
                );
                mix.requests.push(request);
                mix.pages.push((spec, after.clone()));
                let answer: Value = serde_json::from_slice(client.body())?;
                let info = &answer["data"]["products"]["pageInfo"];
                if info["hasNextPage"] != true {
                    break;
                }
                after = info["endCursor"].as_str().map(str::to_owned);
            }
        }
        Ok(mix)
    }

    /// The main SQL statement of every page of the mix, as the server builds it, with its
    /// values inline (timestamps in ISO 8601's basic format: pgbench reads `:name` in a script
    /// as a variable).
    pub async fn statements(&self, db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
        let mut out = Vec::with_capacity(self.pages.len());
        for (spec, after) in &self.pages {
            let page = Page {
                limit: PAGE_SIZE,
                after: after
                    .as_deref()
                    .map(ProductCursor::decode)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            };
            let search = Search::new(db, Scope::Public, &spec.filter(&self.categories), spec.sort)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .ok_or_else(|| anyhow::anyhow!("{spec:?} matches nothing"))?;
            let statement = search
                .page_statement(&page)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            out.push(without_colons(&statement.to_string(PostgresQueryBuilder))?);
        }
        Ok(out)
    }
}

/// Rewrites `'2026-11-30 10:00:00.123456 +00:00'` as `'20261130T100000.123456Z'`.
fn without_colons(sql: &str) -> anyhow::Result<String> {
    let mut out = String::with_capacity(sql.len());
    for (i, part) in sql.split('\'').enumerate() {
        if i > 0 {
            out.push('\'');
        }
        if !part.contains(':') {
            out.push_str(part);
            continue;
        }
        anyhow::ensure!(i % 2 == 1, "a colon outside a literal: {sql}");
        let at = chrono::DateTime::parse_from_str(part, "%Y-%m-%d %H:%M:%S%.f %:z")
            .map_err(|e| anyhow::anyhow!("{part:?} is not a timestamp: {e}"))?;
        out.push_str(
            &at.with_timezone(&chrono::Utc)
                .format("%Y%m%dT%H%M%S%.6fZ")
                .to_string(),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_lose_their_colons_and_nothing_else_changes() -> anyhow::Result<()> {
        assert_eq!(
            without_colons("a < '2026-11-30 10:00:00.123456 +00:00' AND b = 'x'")?,
            "a < '20261130T100000.123456Z' AND b = 'x'"
        );
        assert!(without_colons("a::int").is_err());
        Ok(())
    }
}
