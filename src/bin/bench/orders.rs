//! Orders placed per second through GraphQL (`createOrder` over HTTP), 64 concurrent buyers,
//! each with its own funded wallet: spread over 64 products of 8 vendors, and hot (everyone
//! ordering the last 1,000 units of one product). Runs on PostgreSQL (next to pgbench) and on
//! SQLite; the ledger invariants and the stock are checked afterwards.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use entity::{addresses, categories, orders, products, users, vendors};
use kabaadwala::wallet::ledger;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _,
};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    CONCURRENCY, Outcome, SECONDS,
    catalog::{approved_vendor, serve},
    http::{self, Client},
    record,
};

const CREATE: &str =
    "mutation($input: CreateOrderInput!) { createOrder(input: $input) { id number total } }";
const VENDORS: usize = 8;
const HOT_STOCK: i32 = 1_000;

struct Market {
    buyers: Vec<(Uuid, Uuid)>,
    spread: Vec<Uuid>,
    hot: Uuid,
}

async fn seed(db: &DatabaseConnection) -> anyhow::Result<Market> {
    let now = chrono::Utc::now();
    let category = Uuid::new_v4();
    categories::Entity::insert(categories::ActiveModel {
        id: Set(category),
        parent_id: Set(None),
        name: Set("Metals".into()),
        slug: Set("metals".into()),
        icon_url: Set(None),
        sort_order: Set(0),
        created_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    let (mut user_rows, mut vendor_rows, mut vendor_ids) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..VENDORS {
        let (user, mut vendor) = approved_vendor(i, now);
        vendor.service_radius_km = Set(50.0);
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
    let product = |vendor: Uuid, name: String, stock: i32| {
        let id = Uuid::new_v4();
        (
            id,
            products::ActiveModel {
                id: Set(id),
                vendor_id: Set(vendor),
                category_id: Set(category),
                name: Set(name),
                description: Set(None),
                unit: Set(products::Unit::Kg),
                price: Set(2_500),
                stock: Set(stock),
                is_active: Set(true),
                rating: Set(0.0),
                review_count: Set(0),
                created_at: Set(now),
                updated_at: Set(now),
                deleted_at: Set(None),
            },
        )
    };
    let mut rows = Vec::new();
    let mut spread = Vec::new();
    for i in 0..CONCURRENCY {
        let (id, row) = product(vendor_ids[i % VENDORS], format!("Lot {i}"), 1_000_000);
        spread.push(id);
        rows.push(row);
    }
    let (hot, hot_row) = product(vendor_ids[0], "The last thousand".into(), HOT_STOCK);
    rows.push(hot_row);
    products::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;

    let buyers = super::prepare(db, CONCURRENCY).await?;
    let mut address_rows = Vec::new();
    let mut pairs = Vec::new();
    for buyer in buyers {
        let id = Uuid::new_v4();
        pairs.push((buyer, id));
        address_rows.push(addresses::ActiveModel {
            id: Set(id),
            user_id: Set(buyer),
            label: Set("Home".into()),
            line1: Set("1 Janpath".into()),
            line2: Set(None),
            city: Set("New Delhi".into()),
            state: Set("Delhi".into()),
            pincode: Set("110001".into()),
            latitude: Set(Some(28.62)),
            longitude: Set(Some(77.21)),
            is_default: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        });
    }
    addresses::Entity::insert_many(address_rows)
        .exec_without_returning(db)
        .await?;
    Ok(Market {
        buyers: pairs,
        spread,
        hot,
    })
}

pub struct OrdersOutcome {
    pub outcome: Outcome,
    pub refused: u64,
}

/// Every buyer places one-unit orders in a loop: of its own product (`hot == None`) or of the
/// hot product until it is sold out.
async fn place(
    addr: std::net::SocketAddr,
    tokens: &[(String, Uuid)],
    market: &Market,
    hot: bool,
) -> anyhow::Result<OrdersOutcome> {
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let start = Instant::now();
    let sold_out = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for (i, (token, address)) in tokens.iter().enumerate() {
        let mut client = Client::connect(addr).await?;
        let product = if hot { market.hot } else { market.spread[i] };
        let (token, address, sold_out) = (token.clone(), *address, sold_out.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut refused = 0_u64;
            let mut n = 0_u64;
            while Instant::now() < deadline && sold_out.load(Ordering::Relaxed) == 0 {
                n += 1;
                let body = json!({ "query": CREATE, "variables": { "input": {
                    "items": [{ "productId": product, "quantity": 1 }],
                    "addressId": address,
                    "idempotencyKey": format!("bench-{hot}-{i}-{n}"),
                }}});
                let request = http::post_json(&body, Some(&token));
                let began = Instant::now();
                if client.call(&request).await? {
                    latencies.push(began.elapsed());
                } else {
                    refused += 1;
                    if hot {
                        sold_out.store(1, Ordering::Relaxed);
                    }
                }
            }
            anyhow::Ok((latencies, refused))
        }));
    }
    let (mut latencies, mut refused) = (Vec::new(), 0);
    for task in tasks {
        let (l, r) = task.await??;
        latencies.extend(l);
        refused += r;
    }
    // Wall time: from the first request to the last answer (for the hot product, until every
    // buyer has seen it sold out).
    Ok(OrdersOutcome {
        outcome: Outcome {
            ops: latencies.len() as u64,
            elapsed: start.elapsed(),
            latencies,
        },
        refused,
    })
}

fn report(label: &str, r: &OrdersOutcome, pgbench_tps: Option<f64>) -> f64 {
    let rate = r.outcome.rate();
    let vs = pgbench_tps
        .map(|t| format!(" ({:.0}% of pgbench)", 100.0 * rate / t))
        .unwrap_or_default();
    let (p50, p99) = r.outcome.p50_p99();
    println!(
        "{label}: {rate:.0} orders/s{vs}, p50 {p50:.2} ms, p99 {p99:.2} ms, {} placed, {} refused",
        r.outcome.ops, r.refused
    );
    rate
}

/// Seeds `url`, serves it, runs the spread (and, `with_hot`, the hot) case, checks the ledger.
async fn scenario(url: &str, label: &str, pgbench_tps: Option<f64>) -> anyhow::Result<()> {
    let db = kabaadwala::db::connect_url(url, 8).await?;
    kabaadwala::db::migrate(&db).await?;
    let market = seed(&db).await?;
    let shutdown = CancellationToken::new();
    let statements = Arc::new(AtomicU64::new(0));
    let addr = serve(url, statements.clone(), shutdown.clone()).await?;
    let config = kabaadwala::config::Config::from_lookup(|key| match key {
        "DATABASE_URL" => Some(url.to_owned()),
        _ => std::env::var(key).ok(),
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let jwt = kabaadwala::auth::jwt::JwtKeys::new(&config);
    let tokens = market
        .buyers
        .iter()
        .map(|(user, address)| {
            jwt.issue(*user, users::Role::Customer)
                .map(|t| (t, *address))
                .map_err(|e| anyhow::anyhow!("{e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;

    let before = statements.load(Ordering::Relaxed);
    let spread = place(addr, &tokens, &market, false).await?;
    let per_order = (statements.load(Ordering::Relaxed) - before) as f64
        / (spread.outcome.ops + spread.refused).max(1) as f64;
    let spread_rate = report(
        &format!("{label}: orders, 64 buyers, spread"),
        &spread,
        pgbench_tps,
    );
    println!("{label}: {per_order:.2} SQL statements per order (spread)");
    record::row(
        format!("SQL statements per `createOrder` ({label}, spread, batches included)"),
        format!("{per_order:.2}"),
        "",
        "",
        None,
    );
    match pgbench_tps {
        Some(tps) => record::row(
            "`createOrder` via HTTP on PostgreSQL, 64 buyers, spread",
            format!(
                "{}, {} refused",
                spread.outcome.summary("orders/s"),
                spread.refused
            ),
            format!(
                "`pgbench -N` {tps:.0} TPS → **{:.0}%**",
                100.0 * spread_rate / tps
            ),
            "≥ 30% of pgbench",
            Some(spread_rate >= 0.3 * tps && spread.refused == 0),
        ),
        None => record::row(
            format!("`createOrder` via HTTP on {label}, 64 buyers, spread"),
            format!(
                "{}, {} refused",
                spread.outcome.summary("orders/s"),
                spread.refused
            ),
            "",
            "≥ 2,000 orders/s",
            Some(spread_rate >= 2000.0 && spread.refused == 0),
        ),
    }
    if pgbench_tps.is_some() {
        let hot = place(addr, &tokens, &market, true).await?;
        report(
            &format!("{label}: orders of one product's last {HOT_STOCK} units"),
            &hot,
            pgbench_tps,
        );
        let sold = orders::Entity::find().count(&db).await? - spread.outcome.ops;
        let left = products::Entity::find()
            .filter(products::Column::Id.eq(market.hot))
            .one(&db)
            .await?
            .map(|p| p.stock);
        println!(
            "hot product: {sold} orders placed, stock left {left:?} (expected {HOT_STOCK} and Some(0))"
        );
        record::row(
            format!(
                "`createOrder`, 64 buyers on one product's last {HOT_STOCK} units (rate over the wall time until sold out)"
            ),
            format!(
                "{}; {sold} placed, stock left {}, {} refused as sold out",
                hot.outcome.summary("orders/s"),
                left.map_or("?".to_owned(), |l| l.to_string()),
                hot.refused
            ),
            "",
            format!("exactly {HOT_STOCK} placed, stock 0"),
            Some(sold == HOT_STOCK as u64 && left == Some(0)),
        );
    }
    let check = ledger::check(&db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "{label}: ledger check: {} accounts, {} transfers, {} violations",
        check.accounts_checked,
        check.transfers_checked,
        check.violations.len()
    );
    record::ledger_check(format!("ledger check after the orders ({label})"), &check);
    shutdown.cancel();
    db.close().await.ok();
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(())
}

pub async fn run(admin_url: &str) -> anyhow::Result<()> {
    let pgbench_tps = super::pgbench(admin_url).await?;
    println!("pgbench -N (simple-update), {CONCURRENCY} clients: {pgbench_tps:.0} TPS");
    record::row(
        "`pgbench -N` (simple-update), 64 clients, 10 s, scale 10: the physical reference of the orders",
        format!("{pgbench_tps:.0} TPS"),
        "",
        "",
        None,
    );
    let (url, name) = super::create_database(admin_url, "kw_bench_orders").await?;
    scenario(&url, "PostgreSQL", Some(pgbench_tps)).await?;
    super::drop_database(admin_url, &name).await?;

    run_sqlite().await
}

/// The SQLite half of [`run`] (a fresh database file in the temporary folder).
pub async fn run_sqlite() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("kw-bench-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let sqlite = format!("sqlite://{}?mode=rwc", dir.join("orders.db").display());
    let result = scenario(&sqlite, "SQLite", None).await;
    std::fs::remove_dir_all(&dir).ok();
    result
}
