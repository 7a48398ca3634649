//! `GET /metrics` in the Prometheus text format, hand-rolled (a few counters and histograms do
//! not need a metrics crate). Counted in this process: HTTP requests by method, route and
//! status with their latency; GraphQL operations by name with their latency, and errors by
//! code; open WebSocket subscriptions (counted by the real-time fan-out); password hashes
//! running. Read at scrape time: the job queue's depth by status and the database pool's
//! connections.
//!
//! Labels are bounded: routes are the router's patterns (never raw paths), and operation names,
//! which clients choose, are capped at [`MAX_OPERATION_NAMES`] distinct values (then `other`).

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{LazyLock, Mutex, PoisonError, atomic::Ordering},
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sea_orm::DbBackend;

use crate::AppState;

/// Upper bounds (seconds) of the latency histograms' buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Distinct GraphQL operation names kept as labels; later names are counted as `other`.
pub const MAX_OPERATION_NAMES: usize = 200;

/// Open GraphQL subscriptions (WebSocket) in this process, kept by the real-time fan-out.
pub use crate::realtime::fanout::OPEN_SUBSCRIPTIONS as WS_SUBSCRIPTIONS;

#[derive(Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(self.buckets.iter_mut()) {
            if secs <= *bound {
                *bucket += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, count) in BUCKETS.iter().zip(self.buckets.iter()) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Default)]
struct Registry {
    /// (method, route, status) → count
    http_requests: BTreeMap<(String, String, u16), u64>,
    /// (method, route) → latency
    http_latency: BTreeMap<(String, String), Histogram>,
    /// operation → latency (its count is the operation count)
    graphql_latency: BTreeMap<String, Histogram>,
    /// code → count
    graphql_errors: BTreeMap<String, u64>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    // A panic while holding the lock leaves counters that are still meaningful.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Counts one HTTP request.
pub fn record_http(method: &str, route: &str, status: u16, elapsed: Duration) {
    let mut registry = registry();
    *registry
        .http_requests
        .entry((method.to_owned(), route.to_owned(), status))
        .or_default() += 1;
    registry
        .http_latency
        .entry((method.to_owned(), route.to_owned()))
        .or_default()
        .observe(elapsed);
}

/// Counts one GraphQL operation and the codes of its errors.
pub fn record_graphql(operation: &str, elapsed: Duration, error_codes: &[&str]) {
    let mut registry = registry();
    let name = if registry.graphql_latency.contains_key(operation)
        || registry.graphql_latency.len() < MAX_OPERATION_NAMES
    {
        operation
    } else {
        "other"
    };
    registry
        .graphql_latency
        .entry(name.to_owned())
        .or_default()
        .observe(elapsed);
    for code in error_codes {
        *registry
            .graphql_errors
            .entry((*code).to_owned())
            .or_default() += 1;
    }
}

/// Middleware: times every request and counts it under its route pattern.
pub async fn track(matched: Option<MatchedPath>, request: Request, next: Next) -> Response {
    let route = matched.map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    record_http(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// `GET /metrics`, on the main listener or on `METRICS_BIND_ADDR`'s. With `METRICS_TOKEN` set,
/// only `Authorization: Bearer <token>` may scrape.
pub async fn handler(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &app.config.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let matches =
            given.is_some_and(|given| crate::auth::secrets::constant_time_eq(given, expected));
        if !matches {
            return StatusCode::UNAUTHORIZED.into_response();
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&app).await,
    )
        .into_response()
}

/// The whole exposition.
pub async fn render(state: &AppState) -> String {
    let mut out = String::with_capacity(8 * 1024);
    {
        let registry = registry();
        out.push_str("# HELP kabaadwala_http_requests_total HTTP requests by method, route and status.\n# TYPE kabaadwala_http_requests_total counter\n");
        for ((method, route, status), count) in &registry.http_requests {
            let _ = writeln!(
                out,
                "kabaadwala_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
                escape(route)
            );
        }
        out.push_str("# HELP kabaadwala_http_request_duration_seconds HTTP request latency by method and route.\n# TYPE kabaadwala_http_request_duration_seconds histogram\n");
        for ((method, route), histogram) in &registry.http_latency {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            histogram.write(
                &mut out,
                "kabaadwala_http_request_duration_seconds",
                &labels,
            );
        }
        out.push_str("# HELP kabaadwala_graphql_operations_total GraphQL operations by operation name.\n# TYPE kabaadwala_graphql_operations_total counter\n");
        for (operation, histogram) in &registry.graphql_latency {
            let _ = writeln!(
                out,
                "kabaadwala_graphql_operations_total{{operation=\"{}\"}} {}",
                escape(operation),
                histogram.count
            );
        }
        out.push_str("# HELP kabaadwala_graphql_operation_duration_seconds GraphQL operation latency by operation name.\n# TYPE kabaadwala_graphql_operation_duration_seconds histogram\n");
        for (operation, histogram) in &registry.graphql_latency {
            let labels = format!("operation=\"{}\"", escape(operation));
            histogram.write(
                &mut out,
                "kabaadwala_graphql_operation_duration_seconds",
                &labels,
            );
        }
        out.push_str("# HELP kabaadwala_graphql_errors_total GraphQL errors by extensions.code.\n# TYPE kabaadwala_graphql_errors_total counter\n");
        for (code, count) in &registry.graphql_errors {
            let _ = writeln!(
                out,
                "kabaadwala_graphql_errors_total{{code=\"{}\"}} {count}",
                escape(code)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP kabaadwala_ws_subscriptions Open GraphQL subscriptions in this process.\n# TYPE kabaadwala_ws_subscriptions gauge\nkabaadwala_ws_subscriptions {}",
        WS_SUBSCRIPTIONS.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP kabaadwala_password_hashes_in_flight argon2 hashes and verifications running now (at most PASSWORD_HASH_CONCURRENCY).\n# TYPE kabaadwala_password_hashes_in_flight gauge\nkabaadwala_password_hashes_in_flight {}",
        crate::auth::password::limiter().in_flight()
    );
    out.push_str("# HELP kabaadwala_jobs Jobs in the queue by status (the whole fleet's queue).\n# TYPE kabaadwala_jobs gauge\n");
    match crate::jobs::control::count_by_status(&state.db).await {
        Ok(counts) => {
            for (status, count) in counts {
                let name = crate::jobs::control::status_name(status);
                let _ = writeln!(out, "kabaadwala_jobs{{status=\"{name}\"}} {count}");
            }
        }
        Err(err) => tracing::warn!(error = ?err, "metrics: could not count jobs"),
    }
    let (size, idle, max) = pool_usage(state);
    let _ = writeln!(
        out,
        "# HELP kabaadwala_db_pool_connections Database pool connections by state.\n# TYPE kabaadwala_db_pool_connections gauge\n\
         kabaadwala_db_pool_connections{{state=\"in_use\"}} {}\nkabaadwala_db_pool_connections{{state=\"idle\"}} {idle}\n\
         # HELP kabaadwala_db_pool_max_connections The pool's maximum size.\n# TYPE kabaadwala_db_pool_max_connections gauge\n\
         kabaadwala_db_pool_max_connections {max}",
        size.saturating_sub(idle)
    );
    out
}

/// (open connections, idle connections, maximum) of the database pool.
fn pool_usage(state: &AppState) -> (u64, u64, u64) {
    match state.db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = state.db.get_postgres_connection_pool();
            (
                u64::from(pool.size()),
                pool.num_idle() as u64,
                u64::from(pool.options().get_max_connections()),
            )
        }
        DbBackend::Sqlite => {
            let pool = state.db.get_sqlite_connection_pool();
            (
                u64::from(pool.size()),
                pool.num_idle() as u64,
                u64::from(pool.options().get_max_connections()),
            )
        }
        _ => (0, 0, 0),
    }
}

/// Label values are escaped as the text format asks (`\`, `"`, newline).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
