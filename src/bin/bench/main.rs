//! Benchmarks against PostgreSQL. `cargo run --release --bin bench -- holds` measures escrow
//! holds per second with 64 concurrent callers: (a) spread over 10,000 wallets, each hold its own
//! transaction; (b) all on ONE wallet, first naively (each hold its own transaction, queueing on
//! the wallet's row lock) and then through the coalescing `HoldQueue` (batches per transaction),
//! with the ratio of the two; next to `pgbench -N` (simple-update) on the same server as the
//! physical reference, then runs the ledger invariant check. Needs `DATABASE_URL=postgres://…` (an admin connection: it
//! creates and drops its own databases) and `pgbench` on the PATH.

mod catalog;
mod http;
mod orders;
mod realtime;

use std::{
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use entity::{ledger_accounts::AccountKind, ledger_transfers::TransferKind, users};
use kabaadwala::wallet::{coalesce::HoldQueue, escrow, ledger};
use rand::Rng as _;
use sea_orm::{
    ConnectionTrait as _, Database, DatabaseConnection, EntityTrait as _, TransactionTrait as _,
};
use uuid::Uuid;

const CONCURRENCY: usize = 64;
const SECONDS: u64 = 10;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench failed: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let scenario = std::env::args().nth(1).unwrap_or_else(|| "holds".into());
    if scenario == "realtime" {
        return realtime::run().await;
    }
    anyhow::ensure!(
        matches!(
            scenario.as_str(),
            "holds" | "catalog" | "orders" | "realtime" | "all"
        ),
        "unknown scenario {scenario:?}; try `holds`, `catalog`, `orders`, `realtime` or `all`"
    );
    let admin_url = std::env::var("DATABASE_URL").context("set DATABASE_URL=postgres://…")?;
    anyhow::ensure!(
        admin_url.starts_with("postgres"),
        "the benchmark runs on PostgreSQL"
    );

    if scenario == "catalog" {
        return catalog::run(&admin_url).await;
    }
    if scenario == "orders" {
        return orders::run(&admin_url).await;
    }
    let pgbench_tps = pgbench(&admin_url).await?;
    println!("pgbench -N (simple-update), {CONCURRENCY} clients: {pgbench_tps:.0} TPS");

    let (db, name) = fresh_database(&admin_url).await?;
    let spread = prepare(&db, 10_000).await?;
    let spread_result = holds(&db, spread.clone(), CONCURRENCY, Mode::Naive).await?;
    report(
        "(a) holds over 10,000 wallets, one transaction each",
        &spread_result,
        pgbench_tps,
    );
    let naive = holds(&db, vec![spread[0]], CONCURRENCY, Mode::Naive).await?;
    let naive_rate = report(
        "(b) holds on ONE wallet, naive (one transaction each)",
        &naive,
        pgbench_tps,
    );
    let queue = HoldQueue::new(db.clone());
    let coalesced = holds(
        &db,
        vec![spread[1]],
        CONCURRENCY,
        Mode::Coalesced(queue.clone()),
    )
    .await?;
    let coalesced_rate = report(
        &format!(
            "(b) holds on ONE wallet, coalesced (HoldQueue, up to {} per transaction)",
            queue.max_batch()
        ),
        &coalesced,
        pgbench_tps,
    );
    println!(
        "(b) coalesced / naive on one wallet: {:.1}x (target: at least 5x)",
        coalesced_rate / naive_rate
    );
    let check = ledger::check(&db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "ledger check: {} accounts, {} transfers, {} violations",
        check.accounts_checked,
        check.transfers_checked,
        check.violations.len()
    );
    for violation in &check.violations {
        println!("  violation: {violation}");
    }
    db.close().await.ok();
    drop_database(&admin_url, &name).await?;
    if scenario == "all" {
        catalog::run(&admin_url).await?;
        orders::run(&admin_url).await?;
    }
    Ok(())
}

struct Outcome {
    ops: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// Prints a scenario's figures; returns its holds per second.
fn report(label: &str, outcome: &Outcome, pgbench_tps: f64) -> f64 {
    let mut latencies = outcome.latencies.clone();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let rate = outcome.ops as f64 / outcome.elapsed.as_secs_f64();
    println!(
        "{label}: {rate:.0} holds/s ({:.0}% of pgbench), p50 {:.2} ms, p99 {:.2} ms, {} holds",
        100.0 * rate / pgbench_tps,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        outcome.ops
    );
    rate
}

#[derive(Clone)]
enum Mode {
    /// `escrow::hold` in the caller's own transaction.
    Naive,
    /// Through the coalescing queue.
    Coalesced(HoldQueue),
}

/// `callers` concurrent callers, each placing one-paisa holds for `SECONDS`, one after another.
async fn holds(
    db: &DatabaseConnection,
    wallets: Vec<Uuid>,
    callers: usize,
    mode: Mode,
) -> anyhow::Result<Outcome> {
    let wallets = Arc::new(wallets);
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let start = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let db = db.clone();
            let wallets = wallets.clone();
            let mode = mode.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let user = wallets[rand::rng().random_range(0..wallets.len())];
                    let began = Instant::now();
                    match &mode {
                        Mode::Naive => {
                            let txn = db.begin().await?;
                            escrow::hold(&txn, user, 1, "bench")
                                .await
                                .map_err(|e| anyhow::anyhow!("{e}"))?;
                            txn.commit().await?;
                        }
                        Mode::Coalesced(queue) => {
                            queue
                                .hold(user, 1, "bench", None)
                                .await
                                .map_err(|e| anyhow::anyhow!("{e}"))?;
                        }
                    }
                    latencies.push(began.elapsed());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    Ok(Outcome {
        ops: latencies.len() as u64,
        elapsed: start.elapsed(),
        latencies,
    })
}

/// `count` users, each with a funded wallet.
async fn prepare(db: &DatabaseConnection, count: usize) -> anyhow::Result<Vec<Uuid>> {
    let now = chrono::Utc::now();
    let mut ids = Vec::with_capacity(count);
    for chunk in (0..count).collect::<Vec<_>>().chunks(1000) {
        let rows = chunk.iter().map(|i| {
            let id = Uuid::new_v4();
            ids.push(id);
            kabaadwala::accounts::admin::verified_user_row(
                id,
                format!("bench-{i}-{id}@example.com"),
                format!("Bench {i}"),
                users::Role::Customer,
                "-".into(),
                now,
            )
        });
        users::Entity::insert_many(rows.collect::<Vec<_>>())
            .exec_without_returning(db)
            .await?;
    }
    let txn = db.begin().await?;
    let clearing = ledger::account(&txn, AccountKind::ProviderClearing, ledger::PLATFORM)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for id in &ids {
        let wallet = ledger::account(&txn, AccountKind::UserAvailable, *id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        ledger::transfer(
            &txn,
            ledger::Transfer {
                debit: clearing.clone(),
                credit: wallet,
                amount: 100_000_000,
                kind: TransferKind::Recharge,
                reference: "bench".into(),
                idempotency_key: None,
                hold_id: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    txn.commit().await?;
    Ok(ids)
}

/// Creates an empty database named `<prefix>_<random>` on the server; returns (url, name).
async fn create_database(admin_url: &str, prefix: &str) -> anyhow::Result<(String, String)> {
    let name = format!("{prefix}_{}", Uuid::new_v4().simple());
    let admin = Database::connect(admin_url).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    admin.close().await.ok();
    Ok((kabaadwala::db::with_database(admin_url, &name), name))
}

async fn fresh_database(admin_url: &str) -> anyhow::Result<(DatabaseConnection, String)> {
    let (url, name) = create_database(admin_url, "kw_bench").await?;
    let db = kabaadwala::db::connect_url(&url, CONCURRENCY as u32 + 4).await?;
    kabaadwala::db::migrate(&db).await?;
    Ok((db, name))
}

async fn drop_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let admin = Database::connect(admin_url).await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    Ok(())
}

/// `pgbench -N` on a scratch database of the same server, as the physical reference.
async fn pgbench(admin_url: &str) -> anyhow::Result<f64> {
    let (url, name) = create_database(admin_url, "kw_pgbench").await?;
    let init = std::process::Command::new("pgbench")
        .args(["-i", "-q", "-s", "10", &url])
        .output()
        .context("run pgbench -i (is pgbench installed?)")?;
    anyhow::ensure!(
        init.status.success(),
        "pgbench -i failed: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let run = std::process::Command::new("pgbench")
        .args([
            "-N",
            "-c",
            &CONCURRENCY.to_string(),
            "-j",
            "2",
            "-T",
            &SECONDS.to_string(),
            &url,
        ])
        .output()
        .context("run pgbench -N")?;
    drop_database(admin_url, &name).await?;
    let out = String::from_utf8_lossy(&run.stdout);
    out.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.trim_start_matches("tps = ").split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no tps in pgbench output: {out}"))
}
