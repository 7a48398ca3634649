//! The server under test (in this process, on a random port, counting SQL statements) and the
//! load: `CONCURRENCY` keep-alive clients sending prepared requests for a while.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use kabaadwala::{AppState, config::Config};
use tokio_util::sync::CancellationToken;

use crate::{CONCURRENCY, Outcome, http::Client, record};

/// The server on a random port over `db_url`, counting SQL statements; returns its address.
pub async fn serve(
    db_url: &str,
    statements: Arc<AtomicU64>,
    shutdown: CancellationToken,
) -> anyhow::Result<std::net::SocketAddr> {
    serve_with(db_url, statements, shutdown, &[]).await
}

/// [`serve`] with configuration variables set (`vars` win over the environment).
pub async fn serve_with(
    db_url: &str,
    statements: Arc<AtomicU64>,
    shutdown: CancellationToken,
    vars: &[(&str, &str)],
) -> anyhow::Result<std::net::SocketAddr> {
    let url = db_url.to_owned();
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let config = Config::from_lookup(|key| {
        if let Some((_, value)) = vars.iter().find(|(k, _)| k == key) {
            return Some(value.clone());
        }
        match key {
            "DATABASE_URL" => Some(url.clone()),
            "RUN_WORKER" => Some("false".into()),
            "DATABASE_MAX_CONNECTIONS" => Some("32".into()),
            _ => std::env::var(key).ok().filter(|_| key != "REDIS_URL"),
        }
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
    pub fn empty() -> Self {
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
    pub fn add(&mut self, slice: Self) {
        self.outcome.ops += slice.outcome.ops;
        self.outcome.elapsed += slice.outcome.elapsed;
        self.outcome.latencies.extend(slice.outcome.latencies);
        self.failures += slice.failures;
    }

    /// Requests answered per second.
    pub fn rate(&self) -> f64 {
        self.outcome.rate()
    }

    /// `1,234 req/s (p50 …, p99 …), F failed` for the report table.
    pub fn summary(&self) -> String {
        format!(
            "{}, {} failed",
            self.outcome.summary("req/s"),
            self.failures
        )
    }

    /// Prints one line; returns the rate.
    pub fn print(&self, label: &str) -> f64 {
        let (p50, p99) = self.outcome.p50_p99();
        println!(
            "{label}: {:.0} req/s, p50 {p50:.2} ms, p99 {p99:.2} ms, {} ok, {} failed",
            self.rate(),
            self.outcome.ops,
            self.failures
        );
        self.rate()
    }

    pub fn p99_ms(&self) -> f64 {
        record::ms(record::percentile(&self.outcome.latencies, 0.99))
    }
}

/// `CONCURRENCY` clients sending `requests` (each client goes through all of them in turn,
/// from its own starting point) for `seconds`.
pub async fn load(
    addr: std::net::SocketAddr,
    requests: &[Vec<u8>],
    seconds: u64,
) -> anyhow::Result<HttpOutcome> {
    anyhow::ensure!(!requests.is_empty(), "no requests to send");
    let requests = Arc::new(requests.to_vec());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for client_no in 0..CONCURRENCY {
        let mut client = Client::connect(addr).await?;
        let requests = requests.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0_u64;
            let mut next = client_no * requests.len() / CONCURRENCY;
            while Instant::now() < deadline {
                let request = &requests[next % requests.len()];
                next += 1;
                let began = Instant::now();
                if client.call(request).await? {
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
