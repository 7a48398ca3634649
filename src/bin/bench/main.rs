//! Benchmarks. `cargo run --release --bin bench -- <scenario>`, scenarios `holds` (escrow holds,
//! `holds.rs`), `catalog` (the product page, `catalog.rs`), `orders` (order placement,
//! `orders.rs`; `orders-sqlite` runs its SQLite half alone and needs no PostgreSQL), `limits`
//! (what a document refused by the abuse limits costs, `limits.rs`), `pickups` (doorstep pickups
//! booked and completed, `pickups.rs`), `realtime` (chat fan-out
//! and idle subscription memory, `realtime.rs`), `server` (cold start to ready, idle RSS and RSS
//! under load of the real binary, `server.rs`), and `all`: every one in turn, then the generated
//! section of `docs/PERFORMANCE.md` (`record.rs`). Needs `DATABASE_URL=postgres://…` (an admin
//! connection: scenarios create and drop their own databases), `pgbench` on the PATH, and the
//! release `kabaadwala` binary next to this one.

mod catalog;
mod holds;
mod http;
mod limits;
mod orders;
mod pickups;
mod realtime;
mod record;
mod server;

use std::{
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use entity::{ledger_accounts::AccountKind, ledger_transfers::TransferKind, users};
use kabaadwala::wallet::ledger;
use sea_orm::{
    ConnectionTrait as _, Database, DatabaseConnection, EntityTrait as _, TransactionTrait as _,
};
use uuid::Uuid;

/// The same allocator as the server binary, as the in-process scenarios serve from this one.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    match scenario.as_str() {
        "realtime" => return realtime::run().await,
        "orders-sqlite" => return orders::run_sqlite().await,
        _ => {}
    }
    anyhow::ensure!(
        matches!(
            scenario.as_str(),
            "holds" | "catalog" | "orders" | "pickups" | "limits" | "server" | "all"
        ),
        "unknown scenario {scenario:?}; try `holds`, `catalog`, `orders`, `orders-sqlite`, `pickups`, `limits`, `realtime`, `server` or `all`"
    );
    let admin_url = std::env::var("DATABASE_URL").context("set DATABASE_URL=postgres://…")?;
    anyhow::ensure!(
        admin_url.starts_with("postgres"),
        "the benchmark runs on PostgreSQL"
    );
    match scenario.as_str() {
        "holds" => holds::run(&admin_url).await,
        "catalog" => catalog::run(&admin_url).await,
        "orders" => orders::run(&admin_url).await,
        "pickups" => pickups::run(&admin_url).await,
        "limits" => limits::run(&admin_url).await,
        "server" => server::run(&admin_url).await,
        _ => all(&admin_url).await,
    }
}

/// Every scenario in turn, then the generated section of `docs/PERFORMANCE.md` (or of the
/// file `BENCH_REPORT` names).
async fn all(admin_url: &str) -> anyhow::Result<()> {
    let started = chrono::Utc::now();
    let clock = Instant::now();
    let machine = record::Machine::read(postgres_version(admin_url).await?);
    holds::run(admin_url).await?;
    catalog::run(admin_url).await?;
    orders::run(admin_url).await?;
    pickups::run(admin_url).await?;
    limits::run(admin_url).await?;
    realtime::run().await?;
    server::run(admin_url).await?;
    let section = record::section(
        &machine,
        started,
        clock.elapsed().as_secs_f64() / 60.0,
        &record::take(),
    );
    let path = std::env::var("BENCH_REPORT").map_or_else(
        |_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/PERFORMANCE.md"),
        std::path::PathBuf::from,
    );
    record::write(&path, &section)?;
    println!("wrote {}", path.display());
    Ok(())
}

async fn postgres_version(admin_url: &str) -> anyhow::Result<String> {
    let admin = Database::connect(admin_url).await?;
    let row = admin
        .query_one_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            "SHOW server_version",
        ))
        .await?
        .context("SHOW server_version")?;
    admin.close().await.ok();
    Ok(row.try_get_by_index::<String>(0)?)
}

/// What one load scenario measured.
struct Outcome {
    ops: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Outcome {
    /// The median and 99th percentile latencies, in milliseconds.
    fn p50_p99(&self) -> (f64, f64) {
        (
            record::ms(record::percentile(&self.latencies, 0.50)),
            record::ms(record::percentile(&self.latencies, 0.99)),
        )
    }

    /// Operations per second of wall time.
    fn rate(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// `1,234 <unit> (p50 …, p99 …)` for the report table.
    fn summary(&self, unit: &str) -> String {
        let (p50, p99) = self.p50_p99();
        format!(
            "{} {unit} (p50 {p50:.1} ms, p99 {p99:.1} ms)",
            thousands(self.rate())
        )
    }
}

/// `12345.6` as `12,346`.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
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
    let run = pgbench_tps(&[
        "-N",
        "-c",
        &CONCURRENCY.to_string(),
        "-j",
        "2",
        "-T",
        &SECONDS.to_string(),
        &url,
    ]);
    drop_database(admin_url, &name).await?;
    run
}

/// Runs `pgbench` with `args`; returns its transactions per second.
fn pgbench_tps(args: &[&str]) -> anyhow::Result<f64> {
    let run = std::process::Command::new("pgbench")
        .args(args)
        .output()
        .context("run pgbench")?;
    let out = String::from_utf8_lossy(&run.stdout);
    anyhow::ensure!(
        run.status.success(),
        "pgbench failed: {}{out}",
        String::from_utf8_lossy(&run.stderr)
    );
    out.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.trim_start_matches("tps = ").split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no tps in pgbench output: {out}"))
}
