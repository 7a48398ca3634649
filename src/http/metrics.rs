//! `GET /metrics` in the Prometheus text format: counters and histograms through the `metrics`
//! facade and its Prometheus exporter (atomics per series, no lock per request). Counted in
//! this process: HTTP requests by method, route and
//! status with their latency; GraphQL operations by name with their latency, and errors by
//! code; open WebSocket subscriptions (counted by the real-time fan-out); password hashes
//! running. Read at scrape time: the job queue's depth by status and the database pool's
//! connections.
//!
//! Labels are bounded: routes are the router's patterns (never raw paths), and operation names,
//! which clients choose, are capped at [`MAX_OPERATION_NAMES`] distinct values (then `other`).

use std::{
    collections::HashSet,
    fmt::Write as _,
    sync::{LazyLock, OnceLock, PoisonError, RwLock, atomic::Ordering},
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
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

/// The process's Prometheus recorder, installed on first use; `None` if another recorder was
/// installed first (then nothing is counted here, and the scrape-time readings still are).
fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = match PrometheusBuilder::new().set_buckets(&BUCKETS) {
                Ok(builder) => builder.build_recorder(),
                Err(err) => {
                    tracing::error!(error = %err, "metrics: bad histogram buckets");
                    return None;
                }
            };
            let handle = recorder.handle();
            if let Err(err) = metrics::set_global_recorder(recorder) {
                tracing::error!(error = %err, "metrics: another recorder is installed");
                return None;
            }
            describe();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!(
        "kabaadwala_http_requests_total",
        "HTTP requests by method, route and status."
    );
    metrics::describe_histogram!(
        "kabaadwala_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP request latency by method and route."
    );
    metrics::describe_counter!(
        "kabaadwala_graphql_operations_total",
        "GraphQL operations by operation name."
    );
    metrics::describe_histogram!(
        "kabaadwala_graphql_operation_duration_seconds",
        metrics::Unit::Seconds,
        "GraphQL operation latency by operation name."
    );
    metrics::describe_counter!(
        "kabaadwala_graphql_errors_total",
        "GraphQL errors by extensions.code."
    );
}

/// Counts one HTTP request.
pub fn record_http(method: &str, route: &str, status: u16, elapsed: Duration) {
    if recorder().is_none() {
        return;
    }
    let (method, route) = (method.to_owned(), route.to_owned());
    metrics::counter!(
        "kabaadwala_http_requests_total",
        "method" => method.clone(),
        "route" => route.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(
        "kabaadwala_http_request_duration_seconds",
        "method" => method,
        "route" => route
    )
    .record(elapsed.as_secs_f64());
}

/// The label of an operation name: the name itself while fewer than [`MAX_OPERATION_NAMES`]
/// names were seen, `other` after that (clients choose names; labels must stay bounded).
fn operation_label(operation: &str) -> String {
    static SEEN: LazyLock<RwLock<HashSet<String>>> = LazyLock::new(RwLock::default);
    let known = SEEN
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .contains(operation);
    if known {
        return operation.to_owned();
    }
    let mut seen = SEEN.write().unwrap_or_else(PoisonError::into_inner);
    if seen.contains(operation) || seen.len() < MAX_OPERATION_NAMES {
        seen.insert(operation.to_owned());
        operation.to_owned()
    } else {
        "other".to_owned()
    }
}

/// Counts one GraphQL operation and the codes of its errors.
pub fn record_graphql(operation: &str, elapsed: Duration, error_codes: &[&str]) {
    if recorder().is_none() {
        return;
    }
    let label = operation_label(operation);
    metrics::counter!("kabaadwala_graphql_operations_total", "operation" => label.clone())
        .increment(1);
    metrics::histogram!("kabaadwala_graphql_operation_duration_seconds", "operation" => label)
        .record(elapsed.as_secs_f64());
    for code in error_codes {
        metrics::counter!("kabaadwala_graphql_errors_total", "code" => (*code).to_owned())
            .increment(1);
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

/// The whole exposition: what the recorder counted, then what is read at scrape time (from
/// this process and this instance's database, so two apps in one process never mix them).
pub async fn render(state: &AppState) -> String {
    let mut out = String::with_capacity(8 * 1024);
    if let Some(handle) = recorder() {
        out.push_str(&handle.render());
        if !out.ends_with('\n') && !out.is_empty() {
            out.push('\n');
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
