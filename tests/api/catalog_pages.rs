//! The cost of a product page: its SQL reads only the rows it returns (an index-ordered scan
//! with a limit on PostgreSQL, checked with EXPLAIN), the total is counted only when asked for,
//! and pages past the end still report it.

use entity::products;
use kabaadwala::{
    catalog::search::{ProductFilter, ProductSort, Scope, Search},
    paging::Page,
};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait as _, DbBackend, EntityTrait as _, Statement,
    sea_query::PostgresQueryBuilder,
};
use serde_json::json;
use uuid::Uuid;

use crate::support::{
    TestApp,
    catalog::{DELHI, approved_vendor, category, product, product_input},
};

#[tokio::test]
async fn the_total_is_counted_only_when_asked_for() {
    let app =
        TestApp::with_env(&[("CATALOG_COUNT_TTL_MS", "0"), ("CATALOG_PAGE_TTL_MS", "0")]).await;
    let metals = category(&app, "Metals").await;
    let v = approved_vendor(&app, "Counted Scrap", DELHI).await;
    for name in ["Copper", "Brass", "Iron"] {
        product(&app, &v.session, product_input(name, &metals, 1_000, 1)).await;
    }
    let (without, cost_without) = app
        .gql_counting(
            "{ products(first: 2) { edges { node { id name } } } }",
            json!({}),
            None,
        )
        .await;
    let (with, cost_with) = app
        .gql_counting(
            "{ products(first: 2) { totalCount edges { node { id name } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        without.data("products")["edges"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(with.data("products")["totalCount"], 3);
    assert_eq!(cost_without, 1, "one statement for the page, no count");
    assert_eq!(cost_with, 2, "the page and its count");
}

#[tokio::test]
async fn a_page_past_the_end_is_empty_and_still_reports_the_total() {
    let app = TestApp::with_env(&[("CATALOG_COUNT_TTL_MS", "0")]).await;
    let metals = category(&app, "Metals").await;
    let v = approved_vendor(&app, "Last Page Scrap", DELHI).await;
    for name in ["Copper", "Brass"] {
        product(&app, &v.session, product_input(name, &metals, 1_000, 1)).await;
    }
    let query = "query($after: String) { products(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }";
    let first = app
        .gql(query, json!({ "after": null }), None)
        .await
        .data("products");
    assert_eq!(first["pageInfo"]["hasNextPage"], false);
    let past = app
        .gql(
            query,
            json!({ "after": first["pageInfo"]["endCursor"] }),
            None,
        )
        .await
        .data("products");
    assert_eq!(past["edges"].as_array().map(Vec::len), Some(0));
    assert_eq!(past["totalCount"], 2);
}

#[tokio::test]
async fn a_cursor_of_one_sort_is_refused_by_another() {
    let app = TestApp::new().await;
    let metals = category(&app, "Metals").await;
    let v = approved_vendor(&app, "Sorted Scrap", DELHI).await;
    for name in ["Copper", "Brass"] {
        product(&app, &v.session, product_input(name, &metals, 1_000, 1)).await;
    }
    let query = "query($sort: ProductSort, $after: String) { products(first: 1, sort: $sort, after: $after) { pageInfo { endCursor } edges { node { id } } } }";
    let newest = app
        .gql(query, json!({ "sort": "NEWEST", "after": null }), None)
        .await
        .data("products");
    let refused = app
        .gql(
            query,
            json!({ "sort": "RATING", "after": newest["pageInfo"]["endCursor"] }),
            None,
        )
        .await;
    assert_eq!(refused.code(), "BAD_USER_INPUT");
    assert_eq!(refused.field().as_deref(), Some("after"));
}

/// `count` listed products of one vendor in one category, a second apart.
async fn many_products(app: &TestApp, count: usize) -> (Uuid, Uuid) {
    let metals: Uuid = category(app, "Metals").await.parse().unwrap();
    let vendor: Uuid = approved_vendor(app, "Big Scrap", DELHI)
        .await
        .vendor_id
        .parse()
        .unwrap();
    let now = chrono::Utc::now();
    let rows: Vec<products::ActiveModel> = (0..count)
        .map(|i| {
            let at = now - chrono::Duration::seconds(i64::try_from(i).unwrap());
            products::ActiveModel {
                id: Set(Uuid::new_v4()),
                vendor_id: Set(vendor),
                category_id: Set(metals),
                name: Set(format!("Lot {i}")),
                description: Set(None),
                unit: Set(products::Unit::Kg),
                price: Set(1_000 + i64::try_from(i % 997).unwrap() * 10),
                stock: Set(1),
                is_active: Set(true),
                rating: Set(0.0),
                review_count: Set(0),
                created_at: Set(at),
                updated_at: Set(at),
                deleted_at: Set(None),
            }
        })
        .collect();
    for chunk in rows.chunks(500) {
        products::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&app.state.db)
            .await
            .unwrap();
    }
    (metals, vendor)
}

/// PostgreSQL's plan of the page `sort` after `after`, one line per node.
async fn plan(
    app: &TestApp,
    filter: &ProductFilter,
    sort: ProductSort,
    after: Option<&str>,
) -> String {
    let db = &app.state.db;
    let search = Search::new(db, Scope::Public, filter, sort)
        .await
        .unwrap()
        .unwrap();
    let page = Page {
        limit: 20,
        after: after.map(|a| kabaadwala::catalog::search::ProductCursor::decode(a).unwrap()),
    };
    let sql = search
        .page_statement(&page)
        .unwrap()
        .to_string(PostgresQueryBuilder);
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("EXPLAIN {sql}"),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_reads_only_its_rows(plan: &str, index: &str) {
    assert!(plan.trim_start().starts_with("Limit"), "{plan}");
    assert!(plan.contains(&format!("using {index}")), "{plan}");
    assert!(
        !plan.lines().any(|l| l
            .trim_start()
            .trim_start_matches("->")
            .trim_start()
            .starts_with("Sort")),
        "no sort of the matching rows: {plan}"
    );
    assert!(!plan.contains("Aggregate"), "no count in the page: {plan}");
}

#[tokio::test]
async fn on_postgres_a_page_walks_an_index_and_stops_at_its_limit() {
    let app = TestApp::new().await;
    if app.state.db.get_database_backend() != DbBackend::Postgres {
        return; // SQLite plans differently; the plan is PostgreSQL's.
    }
    let (metals, _) = many_products(&app, 3_000).await;
    app.state.db.execute_unprepared("ANALYZE").await.unwrap();

    let everything = ProductFilter::default();
    let newest = plan(&app, &everything, ProductSort::Newest, None).await;
    assert_reads_only_its_rows(&newest, "idx_products_newest");
    assert!(newest.contains("Index Scan Backward"), "{newest}");

    // A later page seeks to its cursor instead of filtering from the first row.
    let query = "{ products(first: 20) { pageInfo { endCursor } } }";
    let first = app.gql(query, json!({}), None).await.data("products");
    let cursor = first["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
    let next = plan(&app, &everything, ProductSort::Newest, Some(&cursor)).await;
    assert_reads_only_its_rows(&next, "idx_products_newest");
    assert!(next.contains("Index Cond: (ROW("), "{next}");

    let cheapest = plan(&app, &everything, ProductSort::PriceAsc, None).await;
    assert_reads_only_its_rows(&cheapest, "idx_products_price");
    let best = plan(&app, &everything, ProductSort::Rating, None).await;
    assert_reads_only_its_rows(&best, "idx_products_rating");

    let in_category = ProductFilter {
        category_id: Some(metals),
        min_price: Some(2_000),
        ..ProductFilter::default()
    };
    let filtered = plan(&app, &in_category, ProductSort::Newest, None).await;
    assert_reads_only_its_rows(&filtered, "idx_products_newest");
}
