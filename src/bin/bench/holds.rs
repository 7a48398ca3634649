//! The `holds` scenario: escrow holds per second with 64 concurrent callers, through the path
//! the API uses: `escrow::hold` in the caller's transaction, which locks the wallet with
//! `ledger::lock_wallets` and records the hold with `escrow::hold_locked`, the same two calls
//! order placement makes for every batch of `createOrder`s. (a) spread over 10,000 wallets; (b)
//! all on ONE wallet (queueing on its row lock); next to `pgbench -N` (simple-update) on the
//! same server as the physical reference; then the ledger invariant check. Whole orders per
//! second, with their group commit, are the `orders` scenario.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use kabaadwala::wallet::{escrow, ledger};
use rand::Rng as _;
use sea_orm::{DatabaseConnection, TransactionTrait as _};
use uuid::Uuid;

use crate::{CONCURRENCY, Outcome, SECONDS, record};

pub async fn run(admin_url: &str) -> anyhow::Result<()> {
    let pgbench_tps = crate::pgbench(admin_url).await?;
    println!("pgbench -N (simple-update), {CONCURRENCY} clients: {pgbench_tps:.0} TPS");
    record::row(
        "`pgbench -N` (simple-update), 64 clients, 10 s, scale 10: the physical reference of the holds",
        format!("{pgbench_tps:.0} TPS"),
        "",
        "",
        None,
    );

    let (db, name) = fresh_database(admin_url).await?;
    let spread = crate::prepare(&db, 10_000).await?;
    let spread_result = holds(&db, spread.clone(), CONCURRENCY).await?;
    let spread_rate = report(
        "(a) holds over 10,000 wallets, one transaction each (escrow::hold)",
        &spread_result,
        pgbench_tps,
    );
    record::row(
        "holds spread over 10,000 wallets, 64 callers (`escrow::hold`, as order placement)",
        spread_result.summary("holds/s"),
        format!(
            "`pgbench -N` {pgbench_tps:.0} TPS → **{:.0}%**",
            100.0 * spread_rate / pgbench_tps
        ),
        "≥ 50% of pgbench",
        Some(spread_rate >= 0.5 * pgbench_tps),
    );
    let one = holds(&db, vec![spread[0]], CONCURRENCY).await?;
    report(
        "(b) holds on ONE wallet, one transaction each (escrow::hold)",
        &one,
        pgbench_tps,
    );
    record::row(
        "holds on ONE wallet, 64 callers (`escrow::hold`, one transaction per hold: queueing on the wallet's row lock; orders on one wallet batch through `createOrder`'s group commit, see `orders`)",
        one.summary("holds/s"),
        "",
        "",
        None,
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
    record::ledger_check("ledger check after the holds", &check);
    db.close().await.ok();
    crate::drop_database(admin_url, &name).await
}

/// Prints a scenario's figures; returns its holds per second.
fn report(label: &str, outcome: &Outcome, pgbench_tps: f64) -> f64 {
    let (p50, p99) = outcome.p50_p99();
    let rate = outcome.rate();
    println!(
        "{label}: {rate:.0} holds/s ({:.0}% of pgbench), p50 {:.2} ms, p99 {:.2} ms, {} holds",
        100.0 * rate / pgbench_tps,
        p50,
        p99,
        outcome.ops
    );
    rate
}

/// `callers` concurrent callers, each placing one-paisa holds for `SECONDS`, one after another,
/// each in its own transaction.
async fn holds(
    db: &DatabaseConnection,
    wallets: Vec<Uuid>,
    callers: usize,
) -> anyhow::Result<Outcome> {
    let wallets = Arc::new(wallets);
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let start = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let db = db.clone();
            let wallets = wallets.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let user = wallets[rand::rng().random_range(0..wallets.len())];
                    let began = Instant::now();
                    let txn = db.begin().await?;
                    escrow::hold(&txn, user, 1, "bench")
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    txn.commit().await?;
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

async fn fresh_database(admin_url: &str) -> anyhow::Result<(DatabaseConnection, String)> {
    let (url, name) = crate::create_database(admin_url, "kw_bench").await?;
    let db = kabaadwala::db::connect_url(&url, CONCURRENCY as u32 + 4).await?;
    kabaadwala::db::migrate(&db).await?;
    Ok((db, name))
}
