//! The catalog page benchmark: `products(first: 50)` with vendor, category, images and rating,
//! over 10,000 products on PostgreSQL, through the real HTTP server, 64 keep-alive clients; next
//! to `{ __typename }` (the framework ceiling) in the same run. A response with `errors` counts
//! as a failure. SQL statements per request come from the database connection's metric hook.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use entity::{categories, product_images, products, users, vendors};
use kabaadwala::{AppState, accounts::admin::verified_user_row, config::Config};
use sea_orm::{ActiveValue::Set, ConnectionTrait as _, DatabaseConnection, EntityTrait as _};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    CONCURRENCY, Outcome, SECONDS,
    http::{self, Client},
    record,
};

pub const PRODUCTS: usize = 10_000;
const VENDORS: usize = 100;
pub const PAGE_QUERY: &str = "{ products(first: 50) { totalCount edges { node { id name price rating reviewCount vendor { id businessName } category { id name } images { url } } } } }";
pub const TYPENAME_QUERY: &str = "{ __typename }";

/// 100 approved vendors around Delhi, five categories, 10,000 products, an image on every third.
pub async fn seed(db: &DatabaseConnection) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let category_ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    categories::Entity::insert_many(
        category_ids
            .iter()
            .enumerate()
            .map(|(i, id)| categories::ActiveModel {
                id: Set(*id),
                parent_id: Set(None),
                name: Set(format!("Category {i}")),
                slug: Set(format!("category-{i}")),
                icon_url: Set(None),
                sort_order: Set(i32::try_from(i).unwrap_or(0)),
                created_at: Set(now),
            })
            .collect::<Vec<_>>(),
    )
    .exec_without_returning(db)
    .await?;
    let mut vendor_ids = Vec::with_capacity(VENDORS);
    let mut user_rows = Vec::new();
    let mut vendor_rows = Vec::new();
    for i in 0..VENDORS {
        let (user, vendor) = approved_vendor(i, now);
        vendor_ids.push(*vendor.id.as_ref());
        user_rows.push(user);
        vendor_rows.push(vendor);
    }
    users::Entity::insert_many(user_rows)
        .exec_without_returning(db)
        .await?;
    vendors::Entity::insert_many(vendor_rows)
        .exec_without_returning(db)
        .await?;
    let names = [
        "Copper wire",
        "Brass fittings",
        "Old newspaper",
        "Aluminium cans",
        "PET bottles",
        "Iron rods",
        "Cardboard",
        "E-waste boards",
    ];
    for chunk in (0..PRODUCTS).collect::<Vec<_>>().chunks(1000) {
        let mut product_rows = Vec::with_capacity(chunk.len());
        let mut image_rows = Vec::new();
        for &i in chunk {
            let id = Uuid::new_v4();
            let at = now - chrono::Duration::seconds(i64::try_from(i)?);
            product_rows.push(products::ActiveModel {
                id: Set(id),
                vendor_id: Set(vendor_ids[i % VENDORS]),
                category_id: Set(category_ids[i % category_ids.len()]),
                name: Set(format!("{} lot {i}", names[i % names.len()])),
                description: Set(Some("Sorted, weighed and ready for pickup".into())),
                unit: Set(products::Unit::Kg),
                price: Set(1_000 + i64::try_from(i % 997)? * 10),
                stock: Set(i32::try_from(i % 50)?),
                is_active: Set(true),
                rating: Set((i % 5) as f64 + 0.5),
                review_count: Set(i32::try_from(i % 20)?),
                created_at: Set(at),
                updated_at: Set(at),
                deleted_at: Set(None),
            });
            if i % 3 == 0 {
                image_rows.push(product_images::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    product_id: Set(id),
                    storage_key: Set(format!("products/{id}/0.jpg")),
                    content_type: Set("image/jpeg".into()),
                    position: Set(0),
                    created_at: Set(at),
                });
            }
        }
        products::Entity::insert_many(product_rows)
            .exec_without_returning(db)
            .await?;
        product_images::Entity::insert_many(image_rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// An approved vendor (and its user) number `i`, on a grid of shops around New Delhi.
pub fn approved_vendor(
    i: usize,
    now: chrono::DateTime<chrono::Utc>,
) -> (users::ActiveModel, vendors::ActiveModel) {
    let (user, vendor) = (Uuid::new_v4(), Uuid::new_v4());
    let user_row = verified_user_row(
        user,
        format!("vendor-{i}-{user}@example.com"),
        format!("Vendor {i}"),
        users::Role::Vendor,
        "-".into(),
        now,
    );
    let f = i as f64;
    let vendor_row = vendors::ActiveModel {
        id: Set(vendor),
        user_id: Set(user),
        business_name: Set(format!("Kabaadi {i}")),
        description: Set(Some("Paper, metal, plastic and e-waste".into())),
        phone: Set("+919876543210".into()),
        address_label: Set("Shop".into()),
        address_line1: Set(format!("{i} Main Road")),
        address_line2: Set(None),
        city: Set("New Delhi".into()),
        state: Set("Delhi".into()),
        pincode: Set("110001".into()),
        latitude: Set(28.5 + (f % 10.0) * 0.03),
        longitude: Set(77.0 + (f / 10.0).floor() * 0.03),
        service_radius_km: Set(15.0),
        kyc_status: Set(vendors::KycStatus::Approved),
        kyc_reason: Set(None),
        commission_bps: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    (user_row, vendor_row)
}

/// The server on a random port over `db`, counting SQL statements; returns its address.
pub async fn serve(
    db_url: &str,
    statements: Arc<AtomicU64>,
    shutdown: CancellationToken,
) -> anyhow::Result<std::net::SocketAddr> {
    let url = db_url.to_owned();
    let config = Config::from_lookup(|key| match key {
        "DATABASE_URL" => Some(url.clone()),
        "RUN_WORKER" => Some("false".into()),
        "DATABASE_MAX_CONNECTIONS" => Some("32".into()),
        _ => std::env::var(key).ok().filter(|_| key != "REDIS_URL"),
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut db = kabaadwala::db::connect(&config).await?;
    db.set_metric_callback(move |_| {
        statements.fetch_add(1, Ordering::Relaxed);
    });
    let state = AppState::from_parts(config, db)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = kabaadwala::http::router(state);
    tokio::spawn(kabaadwala::http::serve(listener, router, shutdown));
    Ok(addr)
}

pub struct HttpOutcome {
    pub outcome: Outcome,
    pub failures: u64,
}

impl HttpOutcome {
    fn empty() -> Self {
        Self {
            outcome: Outcome {
                ops: 0,
                elapsed: Duration::ZERO,
                latencies: Vec::new(),
            },
            failures: 0,
        }
    }

    /// Adds a later slice of the same measurement.
    fn add(&mut self, slice: Self) {
        self.outcome.ops += slice.outcome.ops;
        self.outcome.elapsed += slice.outcome.elapsed;
        self.outcome.latencies.extend(slice.outcome.latencies);
        self.failures += slice.failures;
    }
}

/// The page and its in-memory reference are measured in alternating slices of this many, so a
/// burst of other work on the machine weighs on both alike and their ratio stays meaningful.
const SLICES: u64 = 5;

/// `CONCURRENCY` clients sending `query` for `seconds`.
pub async fn load(
    addr: std::net::SocketAddr,
    query: &str,
    seconds: u64,
) -> anyhow::Result<HttpOutcome> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let request = http::post(query, None);
        let mut client = Client::connect(addr).await?;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0_u64;
            while Instant::now() < deadline {
                let began = Instant::now();
                if client.call(&request).await? {
                    latencies.push(began.elapsed());
                } else {
                    failures += 1;
                }
            }
            anyhow::Ok((latencies, failures))
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (l, f) = task.await??;
        latencies.extend(l);
        failures += f;
    }
    Ok(HttpOutcome {
        outcome: Outcome {
            ops: latencies.len() as u64,
            elapsed: start.elapsed(),
            latencies,
        },
        failures,
    })
}

pub fn report(label: &str, r: &HttpOutcome, reference: Option<f64>) -> f64 {
    let rate = r.outcome.ops as f64 / r.outcome.elapsed.as_secs_f64();
    let vs = reference
        .map(|t| format!(" ({:.0}% of {{ __typename }})", 100.0 * rate / t))
        .unwrap_or_default();
    println!(
        "{label}: {rate:.0} req/s{vs}, p50 {:.2} ms, p99 {:.2} ms, {} ok, {} failed",
        percentile(&r.outcome.latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&r.outcome.latencies, 0.99).as_secs_f64() * 1e3,
        r.outcome.ops,
        r.failures
    );
    rate
}

/// `1,234 req/s (p50 …, p99 …), F failed` for the report table.
fn summary(r: &HttpOutcome) -> String {
    format!("{}, {} failed", r.outcome.summary("req/s"), r.failures)
}

pub fn percentile(latencies: &[Duration], p: f64) -> Duration {
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let index = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(index).copied().unwrap_or_default()
}

/// The whole catalog scenario on a fresh database of the server at `admin_url`.
pub async fn run(admin_url: &str) -> anyhow::Result<()> {
    let (url, name) = super::create_database(admin_url, "kw_bench_catalog").await?;
    let db = kabaadwala::db::connect_url(&url, 8).await?;
    kabaadwala::db::migrate(&db).await?;
    let seeding = Instant::now();
    seed(&db).await?;
    db.execute_unprepared("ANALYZE").await?;
    println!(
        "seeded {PRODUCTS} products in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    db.close().await.ok();

    let statements = Arc::new(AtomicU64::new(0));
    let shutdown = CancellationToken::new();
    let addr = serve(&url, statements.clone(), shutdown.clone()).await?;
    // Warm up: connections opened, plans and pages cached.
    load(addr, PAGE_QUERY, 2).await?;
    let ceiling = load(addr, TYPENAME_QUERY, SECONDS).await?;
    let ceiling_rate = report("{ __typename }", &ceiling, None);
    record::row(
        "`{ __typename }`, 64 clients, HTTP",
        summary(&ceiling),
        "the framework ceiling",
        "",
        None,
    );
    if let Ok(probe) = std::env::var("BENCH_PROBE_QUERY") {
        // For profiling: any other query, measured the same way.
        report(
            &probe,
            &load(addr, &probe, SECONDS).await?,
            Some(ceiling_rate),
        );
    }
    let reference = memory_page(&fetch_page(addr).await?)?;
    anyhow::ensure!(
        reference.edges.len() == 50,
        "the reference page must hold 50 products"
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let memory_addr = listener.local_addr()?;
    let memory_router = in_memory::router(reference);
    tokio::spawn(kabaadwala::http::serve(
        listener,
        memory_router,
        shutdown.clone(),
    ));
    load(memory_addr, PAGE_QUERY, 1).await?;
    let before = statements.load(Ordering::SeqCst);
    let mut page = HttpOutcome::empty();
    let mut memory = HttpOutcome::empty();
    for _ in 0..SLICES {
        page.add(load(addr, PAGE_QUERY, SECONDS / SLICES).await?);
        memory.add(load(memory_addr, PAGE_QUERY, SECONDS / SLICES).await?);
    }
    // The in-memory server runs no SQL: every statement counted is the page's.
    let used = statements.load(Ordering::SeqCst) - before;
    let page_rate = report(
        "products(first: 50) + vendor, category, images, rating",
        &page,
        Some(ceiling_rate),
    );
    let requests = page.outcome.ops + page.failures;
    let per_page = used as f64 / requests.max(1) as f64;
    println!(
        "SQL statements per products page: {per_page:.2} ({used} statements / {requests} requests)"
    );
    let memory_rate = report(
        "the same query, data already in memory",
        &memory,
        Some(ceiling_rate),
    );
    let share = page_rate / memory_rate.max(1.0);
    println!("product page vs in-memory: {:.0}%", 100.0 * share);
    let (_, p99) = page.outcome.p50_p99();
    record::row(
        "`products(first: 50)` + vendor, category, images, rating over 10,000 products, 64 clients, HTTP",
        summary(&page),
        format!(
            "same query on data already in memory {} → **{:.0}%**",
            summary(&memory),
            100.0 * share
        ),
        "≥ 50% of in-memory, p99 < 50 ms",
        Some(share >= 0.5 && p99 < 50.0 && page.failures == 0),
    );
    record::row(
        "SQL statements per product page",
        format!("{per_page:.2} ({used} statements / {requests} requests)"),
        "",
        "≤ 4",
        Some(per_page <= 4.0),
    );
    shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    super::drop_database(admin_url, &name).await
}

/// The reference: the same query shape answered by a schema whose data is already in memory
/// (the first 50 products of the page, with their vendors, categories and images), served by the
/// same axum + async-graphql stack. What the product page achieves against it is what the
/// database costs.
mod in_memory {
    use std::sync::Arc;

    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, SimpleObject};
    use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
    use axum::{Router, extract::State, routing::post};

    #[derive(SimpleObject, Clone)]
    pub struct Vendor {
        pub id: String,
        pub business_name: String,
    }

    #[derive(SimpleObject, Clone)]
    pub struct Category {
        pub id: String,
        pub name: String,
    }

    #[derive(SimpleObject, Clone)]
    pub struct Image {
        pub url: String,
    }

    #[derive(SimpleObject, Clone)]
    pub struct Product {
        pub id: String,
        pub name: String,
        pub price: i64,
        pub rating: f64,
        pub review_count: i32,
        pub vendor: Vendor,
        pub category: Category,
        pub images: Vec<Image>,
    }

    #[derive(SimpleObject, Clone)]
    pub struct Edge {
        pub node: Product,
    }

    #[derive(SimpleObject, Clone)]
    pub struct Page {
        pub total_count: i64,
        pub edges: Vec<Edge>,
    }

    pub struct Query(pub Arc<Page>);

    #[Object]
    impl Query {
        async fn products(&self, first: Option<i32>) -> Page {
            let n = usize::try_from(first.unwrap_or(20)).unwrap_or(0);
            Page {
                total_count: self.0.total_count,
                edges: self.0.edges.iter().take(n).cloned().collect(),
            }
        }
    }

    pub type MemorySchema = Schema<Query, EmptyMutation, EmptySubscription>;

    async fn graphql(State(schema): State<MemorySchema>, req: GraphQLRequest) -> GraphQLResponse {
        schema.execute(req.into_inner()).await.into()
    }

    pub fn router(page: Page) -> Router {
        let schema =
            Schema::build(Query(Arc::new(page)), EmptyMutation, EmptySubscription).finish();
        Router::new()
            .route("/graphql", post(graphql))
            .with_state(schema)
    }
}

/// Reads the page the real server returned into the in-memory reference's shape.
fn memory_page(json: &serde_json::Value) -> anyhow::Result<in_memory::Page> {
    use in_memory::{Category, Edge, Image, Page, Product, Vendor};
    let products = &json["data"]["products"];
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let edges = products["edges"]
        .as_array()
        .context("no edges in the page")?
        .iter()
        .map(|e| {
            let n = &e["node"];
            Edge {
                node: Product {
                    id: s(&n["id"]),
                    name: s(&n["name"]),
                    price: n["price"].as_i64().unwrap_or(0),
                    rating: n["rating"].as_f64().unwrap_or(0.0),
                    review_count: i32::try_from(n["reviewCount"].as_i64().unwrap_or(0))
                        .unwrap_or(0),
                    vendor: Vendor {
                        id: s(&n["vendor"]["id"]),
                        business_name: s(&n["vendor"]["businessName"]),
                    },
                    category: Category {
                        id: s(&n["category"]["id"]),
                        name: s(&n["category"]["name"]),
                    },
                    images: n["images"]
                        .as_array()
                        .map(|a| a.iter().map(|i| Image { url: s(&i["url"]) }).collect())
                        .unwrap_or_default(),
                },
            }
        })
        .collect();
    Ok(Page {
        total_count: products["totalCount"].as_i64().unwrap_or(0),
        edges,
    })
}

/// Fetches one page from the real server (to build the in-memory reference from it).
async fn fetch_page(addr: std::net::SocketAddr) -> anyhow::Result<serde_json::Value> {
    let mut client = Client::connect(addr).await?;
    anyhow::ensure!(
        client.call(&http::post(PAGE_QUERY, None)).await?,
        "the product page failed"
    );
    Ok(serde_json::from_slice(client.body())?)
}
