//! The catalog page benchmark, through the real HTTP server (in this process), 64 keep-alive
//! clients, on PostgreSQL:
//! - the page as it ships for varied requests, with the page cache OFF (`CATALOG_PAGE_TTL_MS=0`,
//!   the count cache at its default): 50 products with vendor, category, images, rating and the
//!   total, over several filters (category, price range, `near`, two sorts) each followed for
//!   several pages by cursor (`mix.rs`), over 10,000 products; against the same server code
//!   answering one fixed page from its page cache, measured in alternating slices of the same
//!   run, so a burst of other work on the machine weighs on both alike;
//! - the same varied page at 1,000, 10,000 and 100,000 products (it should stay flat);
//! - PostgreSQL alone running the same pages' main statement (pgbench, prepared, 32 clients);
//! - `{ __typename }`, the framework's ceiling; SQL statements per page from the connection's
//!   metric hook. A response with `errors` counts as a failure.

mod load;
mod mix;
mod seed;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::ConnectionTrait as _;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use load::serve_with;
pub use load::{HttpOutcome, load, serve};
use mix::{Mix, PAGE_QUERY};
pub use seed::{approved_vendor, seed};

use crate::{SECONDS, http, record, thousands};

/// The catalog of the main figures.
pub const PRODUCTS: usize = 10_000;
/// The catalogs the page's flatness is shown on.
const SCALES: [usize; 3] = [1_000, PRODUCTS, 100_000];
/// The page cache's TTL on the server that answers from it (the default).
const PAGE_TTL_MS: &str = "1000";
/// pgbench's clients for the statement reference.
const PGBENCH_CLIENTS: usize = 32;
/// The page and its cached reference are measured in alternating slices of this many.
const SLICES: u64 = 5;

/// The request of one fixed page: the first 50 of the whole catalog, newest first.
pub fn fixed_page() -> Vec<u8> {
    http::post(PAGE_QUERY, None)
}

/// A seeded, analysed database of the server at `admin_url`.
struct Dataset {
    url: String,
    name: String,
    categories: Vec<Uuid>,
}

impl Dataset {
    async fn create(admin_url: &str, products: usize) -> anyhow::Result<Self> {
        let (url, name) = crate::create_database(admin_url, "kw_bench_catalog").await?;
        let db = kabaadwala::db::connect_url(&url, 8).await?;
        kabaadwala::db::migrate(&db).await?;
        let seeding = Instant::now();
        let categories = seed(&db, products).await?;
        db.execute_unprepared("ANALYZE").await?;
        println!(
            "seeded {products} products in {:.1} s",
            seeding.elapsed().as_secs_f64()
        );
        db.close().await.ok();
        Ok(Self {
            url,
            name,
            categories,
        })
    }

    async fn drop(self, admin_url: &str) -> anyhow::Result<()> {
        crate::drop_database(admin_url, &self.name).await
    }
}

/// What the 10,000-product run measured.
struct Main {
    ceiling: HttpOutcome,
    uncached: HttpOutcome,
    cached: HttpOutcome,
    statements: u64,
    pages: usize,
    filters: usize,
    pgbench: (usize, f64),
    alone: HttpOutcome,
}

/// The whole catalog scenario, on fresh databases of the server at `admin_url`.
pub async fn run(admin_url: &str) -> anyhow::Result<()> {
    let mut scale = Vec::new();
    let mut main = None;
    for products in SCALES {
        let data = Dataset::create(admin_url, products).await?;
        let measured = if products == PRODUCTS {
            main_figures(&data).await.map(|m| {
                let rate = (m.alone.rate(), m.alone.p99_ms());
                main = Some(m);
                rate
            })
        } else {
            uncached_alone(&data).await.map(|r| (r.rate(), r.p99_ms()))
        };
        data.drop(admin_url).await?;
        scale.push((products, measured?));
    }
    let main = main.ok_or_else(|| anyhow::anyhow!("no run on {PRODUCTS} products"))?;
    report(&main);
    let of = |n: usize| {
        scale
            .iter()
            .find(|(p, _)| *p == n)
            .map_or(0.0, |(_, (rate, _))| *rate)
    };
    let flat = of(100_000) >= 0.8 * of(1_000);
    record::row(
        "catalog page, page cache off, the same varied requests as the catalog grows (each size measured alone)",
        scale
            .iter()
            .map(|(products, (rate, p99))| {
                format!(
                    "{} products: {} req/s (p99 {p99:.1} ms)",
                    thousands(*products as f64),
                    thousands(*rate)
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        "",
        "flat: 100,000 products at ≥ 80% of 1,000",
        Some(flat),
    );
    Ok(())
}

/// The server with its page cache off and the same server code answering from its page cache,
/// measured in alternating slices; the framework's ceiling; the uncached page alone; pgbench.
async fn main_figures(data: &Dataset) -> anyhow::Result<Main> {
    let statements = Arc::new(AtomicU64::new(0));
    let shutdown = CancellationToken::new();
    let uncached = serve_with(
        &data.url,
        statements.clone(),
        shutdown.clone(),
        &[("CATALOG_PAGE_TTL_MS", "0")],
    )
    .await?;
    let cached = serve_with(
        &data.url,
        Arc::new(AtomicU64::new(0)),
        shutdown.clone(),
        &[
            ("CATALOG_PAGE_TTL_MS", PAGE_TTL_MS),
            ("DATABASE_MAX_CONNECTIONS", "8"),
        ],
    )
    .await?;
    let mix = Mix::walk(uncached, &data.categories).await?;
    let fixed = [fixed_page()];
    // Warm up: connections opened, plans and the fixed page cached.
    load(uncached, &mix.requests, 2).await?;
    load(cached, &fixed, 1).await?;
    let ceiling = load(uncached, &[http::post("{ __typename }", None)], SECONDS).await?;
    ceiling.print("{ __typename }");
    let before = statements.load(Ordering::SeqCst);
    let mut page = HttpOutcome::empty();
    let mut from_cache = HttpOutcome::empty();
    for _ in 0..SLICES {
        page.add(load(uncached, &mix.requests, SECONDS / SLICES).await?);
        from_cache.add(load(cached, &fixed, SECONDS / SLICES).await?);
    }
    let used = statements.load(Ordering::SeqCst) - before;
    page.print("page cache off, varied requests");
    from_cache.print("one fixed page from the page cache");
    let alone = load(uncached, &mix.requests, SECONDS).await?;
    alone.print("page cache off, varied requests, alone");
    shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let db = kabaadwala::db::connect_url(&data.url, 2).await?;
    let scripts = mix.statements(&db).await?;
    db.close().await.ok();
    let tps = pgbench_pages(&data.url, &scripts)?;
    println!(
        "pgbench, the {} pages' main statement, prepared, {PGBENCH_CLIENTS} clients: {tps:.0} TPS",
        scripts.len()
    );
    Ok(Main {
        ceiling,
        uncached: page,
        cached: from_cache,
        statements: used,
        pages: mix.requests.len(),
        filters: mix.filters,
        pgbench: (scripts.len(), tps),
        alone,
    })
}

/// The varied page with the page cache off, alone for `SECONDS`.
async fn uncached_alone(data: &Dataset) -> anyhow::Result<HttpOutcome> {
    let shutdown = CancellationToken::new();
    let addr = serve_with(
        &data.url,
        Arc::new(AtomicU64::new(0)),
        shutdown.clone(),
        &[("CATALOG_PAGE_TTL_MS", "0")],
    )
    .await?;
    let mix = Mix::walk(addr, &data.categories).await?;
    load(addr, &mix.requests, 2).await?;
    let alone = load(addr, &mix.requests, SECONDS).await;
    shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let alone = alone?;
    alone.print("page cache off, varied requests, alone");
    Ok(alone)
}

/// pgbench running `scripts` (one SQL statement each, picked at random per transaction),
/// prepared, on the database at `url`; returns its transactions per second.
fn pgbench_pages(url: &str, scripts: &[String]) -> anyhow::Result<f64> {
    let dir = std::env::temp_dir().join(format!("kw-bench-pages-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let mut args: Vec<String> = [
        "-n",
        "-M",
        "prepared",
        "-c",
        &PGBENCH_CLIENTS.to_string(),
        "-j",
        "2",
        "-T",
        &SECONDS.to_string(),
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    // pgbench takes at most 128 scripts.
    for (i, sql) in scripts.iter().take(128).enumerate() {
        let path = dir.join(format!("page-{i}.sql"));
        std::fs::write(&path, format!("{sql};\n"))?;
        args.push("-f".into());
        args.push(path.display().to_string());
    }
    args.push(url.to_owned());
    let tps = crate::pgbench_tps(&args.iter().map(String::as_str).collect::<Vec<_>>());
    std::fs::remove_dir_all(&dir).ok();
    tps
}

fn report(m: &Main) {
    let share = m.uncached.rate() / m.cached.rate().max(1.0);
    let requests = m.uncached.outcome.ops + m.uncached.failures;
    let per_page = m.statements as f64 / requests.max(1) as f64;
    let (scripts, tps) = m.pgbench;
    println!("page cache off vs the page cache: {:.0}%", 100.0 * share);
    println!(
        "SQL statements per page, page cache off: {per_page:.2} ({} / {requests})",
        m.statements
    );
    record::row(
        "`{ __typename }`, 64 clients, HTTP (the framework's ceiling)",
        m.ceiling.summary(),
        "",
        "",
        None,
    );
    record::row(
        format!(
            "catalog page from the page cache: one fixed page (`products(first: 50)` + total, vendor, category, images, rating), {} products, `CATALOG_PAGE_TTL_MS={PAGE_TTL_MS}`, 64 clients, HTTP",
            thousands(PRODUCTS as f64)
        ),
        m.cached.summary(),
        "",
        "",
        None,
    );
    record::row(
        format!(
            "catalog page, page cache OFF (`CATALOG_PAGE_TTL_MS=0`, count cache at its default): {} filters (category, price range, `near`, two sorts) × up to 8 pages by cursor = {} distinct pages, {} products, 64 clients, HTTP",
            m.filters,
            m.pages,
            thousands(PRODUCTS as f64)
        ),
        m.uncached.summary(),
        format!(
            "the page cache's fixed page (row above, alternating slices) {} req/s → **{:.0}%**",
            thousands(m.cached.rate()),
            100.0 * share
        ),
        "≥ 50% of the cached page, p99 < 50 ms",
        Some(share >= 0.5 && m.uncached.p99_ms() < 50.0 && m.uncached.failures == 0),
    );
    record::row(
        "SQL statements per page, page cache off (page, images; the category subtree and the total when not cached)",
        format!(
            "{per_page:.2} ({} statements / {requests} requests)",
            m.statements
        ),
        "",
        "≤ 4",
        Some(per_page <= 4.0),
    );
    record::row(
        format!(
            "catalog page, page cache off, the same varied requests measured alone, against PostgreSQL alone running the {scripts} pages' main statement (pgbench `-M prepared`, {PGBENCH_CLIENTS} clients, {SECONDS} s, on the same data)"
        ),
        m.alone.summary(),
        format!(
            "pgbench {tps:.0} TPS → **{:.0}%**",
            100.0 * m.alone.rate() / tps.max(1.0)
        ),
        "",
        None,
    );
}
