//! What a document refused by the abuse limits costs: one client sends each kind of refused
//! document (too deep, too many aliases, too many directives, too many tokens) over HTTP in a
//! loop, next to `{ __typename }` (the HTTP round trip with nothing to do). Every answer must be
//! the `BAD_USER_INPUT` refusal, and no SQL statement may run.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio_util::sync::CancellationToken;

use super::{
    Outcome,
    catalog::serve,
    http::{self, Client},
    record,
};

const SECONDS_PER_KIND: u64 = 3;

/// The refused documents, each just past its default limit (depth 10, 15 aliases, 50
/// directives, 3,000 tokens) by a wide margin.
fn documents() -> Vec<(&'static str, String)> {
    let deep = format!(
        "{{ categories {} id {} }}",
        "{ children ".repeat(30),
        "}".repeat(30)
    );
    let aliases = format!(
        "{{ {} }}",
        (0..100)
            .map(|i| format!("a{i}: categories {{ id }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let directives = format!(
        "{{ categories {{ {} }} }}",
        "id @include(if: true) ".repeat(200)
    );
    let tokens = format!("{{ categories {{ {} }} }}", "id ".repeat(20_000));
    vec![
        ("depth 30 (limit 10)", deep),
        ("100 aliases (limit 15)", aliases),
        ("200 directives (limit 50)", directives),
        ("20,000 tokens (limit 3,000)", tokens),
    ]
}

/// One client, sequential requests for `SECONDS_PER_KIND`; every answer must satisfy `accept`.
async fn one_client(
    addr: std::net::SocketAddr,
    query: &str,
    accept: impl Fn(bool, &[u8]) -> bool,
) -> anyhow::Result<Outcome> {
    let request = http::post(query, None);
    let mut client = Client::connect(addr).await?;
    let deadline = Instant::now() + Duration::from_secs(SECONDS_PER_KIND);
    let start = Instant::now();
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let began = Instant::now();
        let ok = client.call(&request).await?;
        latencies.push(began.elapsed());
        anyhow::ensure!(
            accept(ok, client.body()),
            "unexpected answer: {}",
            String::from_utf8_lossy(client.body())
        );
    }
    Ok(Outcome {
        ops: latencies.len() as u64,
        elapsed: start.elapsed(),
        latencies,
    })
}

pub async fn run(admin_url: &str) -> anyhow::Result<()> {
    let (url, name) = super::create_database(admin_url, "kw_bench_limits").await?;
    let db = kabaadwala::db::connect_url(&url, 2).await?;
    kabaadwala::db::migrate(&db).await?;
    db.close().await.ok();
    let statements = Arc::new(AtomicU64::new(0));
    let shutdown = CancellationToken::new();
    let addr = serve(&url, statements.clone(), shutdown.clone()).await?;

    one_client(addr, "{ __typename }", |ok, _| ok).await?; // warm up
    let floor = one_client(addr, "{ __typename }", |ok, _| ok).await?;
    let (floor_p50, _) = floor.p50_p99();
    println!("{{ __typename }}, one client: {}", floor.summary("req/s"));
    let mut results = Vec::new();
    let before = statements.load(Ordering::SeqCst);
    for (kind, document) in documents() {
        let refused = one_client(addr, &document, |ok, body| {
            !ok && body.windows(14).any(|w| w == b"BAD_USER_INPUT")
        })
        .await?;
        println!("refused, {kind}, one client: {}", refused.summary("req/s"));
        let (p50, p99) = refused.p50_p99();
        results.push((kind, p50, p99));
    }
    let used = statements.load(Ordering::SeqCst) - before;
    let worst_p50 = results.iter().map(|r| r.1).fold(0.0, f64::max);
    record::row(
        "documents refused by the abuse limits, one client over HTTP (round trip included)",
        results
            .iter()
            .map(|(kind, p50, p99)| format!("{kind}: p50 {p50:.3} ms, p99 {p99:.3} ms"))
            .collect::<Vec<_>>()
            .join("; ")
            + &format!("; {used} SQL statements"),
        format!("`{{ __typename }}` p50 {floor_p50:.3} ms"),
        "well under 1 ms",
        Some(worst_p50 < 1.0 && used == 0),
    );
    shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    super::drop_database(admin_url, &name).await
}
