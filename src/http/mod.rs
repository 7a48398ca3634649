//! The HTTP surface: `POST/GET /graphql` (GET also upgrades to a GraphQL WebSocket), GraphiQL at
//! `/`, `/healthz`, `/readyz`, `/metrics` (or, with `METRICS_BIND_ADDR`, [`metrics_router`] on a
//! listener of its own), `/media/…`. [`router`] is a plain function so tests can drive it without
//! a socket; [`serve`] binds it and shuts down gracefully on SIGTERM/Ctrl-C. [`admin`] is the
//! operators' console at `/admin/…`.

pub mod admin;
mod auth;
mod dev_checkout;
mod graphql;
mod health;
mod media;
pub mod metrics;
mod negotiate;
mod params;
mod playground;
mod webhooks;
pub mod ws;

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use axum::{Router, extract::FromRef, routing::get};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower_http::{
    cors::CorsLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};

use crate::{
    AppState,
    graphql::{executor::HttpExecutor, schema::AppSchema},
    realtime::fanout::Fanout,
};

pub use auth::auth_from_header;

/// What every handler gets.
#[derive(Clone)]
pub struct HttpState {
    pub app: AppState,
    /// The schema with its extensions: WebSocket operations and subscriptions.
    pub schema: AppSchema,
    /// GraphQL over HTTP (`POST`/`GET /graphql`).
    pub executor: HttpExecutor,
    /// This server's subscription groups.
    pub fanout: Arc<Fanout>,
    /// This server's WebSocket connection counts (in all and per user).
    pub sockets: Arc<ws::Capacity>,
}

pub fn router(app: AppState) -> Router {
    let schemas = crate::graphql::schema::build_schemas(app.clone());
    let max_body = app.config.max_body_bytes;
    let fanout = Fanout::new(
        std::sync::Arc::new(schemas.full.clone()),
        std::sync::Arc::new(schemas.replays),
        app.clone(),
    );
    let state = HttpState {
        app,
        schema: schemas.full,
        executor: schemas.http,
        fanout,
        sockets: ws::new_capacity(),
    };
    let mut routes = Router::new()
        .route("/", get(playground::page))
        .route("/graphiql/{version}/{file}", get(playground::asset))
        .route("/graphql", get(ws::get_or_upgrade).post(graphql::post))
        .route("/healthz", get(health::healthz))
        .route("/media/{*key}", get(media::get))
        .route("/readyz", get(health::readyz))
        .route(
            "/webhooks/payments/{provider}",
            axum::routing::post(webhooks::payment),
        )
        .route(
            "/webhooks/payouts/{provider}",
            axum::routing::post(webhooks::payout),
        )
        .route("/dev/checkout", get(dev_checkout::page));
    // With a listener of its own (`METRICS_BIND_ADDR`), `/metrics` is not on the public one.
    // The operators' console (`/admin`): its own cookie sessions, the same services.
    routes = routes.merge(admin::router(&state.app.config));
    if state.app.config.metrics_bind_addr.is_none() {
        routes = routes.route("/metrics", get(metrics::handler));
    }
    routes
        .with_state(state)
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(CorsLayer::permissive())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::http::Request<_>| {
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    // `user_id` is filled in once the Authorization header is verified.
                    tracing::info_span!(
                        "http",
                        method = %request.method(),
                        path = %request.uri().path(),
                        %request_id,
                        user_id = tracing::field::Empty
                    )
                })
                // One access-log line per request (status and latency), with the span's fields.
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

impl FromRef<HttpState> for AppState {
    fn from_ref(http: &HttpState) -> Self {
        http.app.clone()
    }
}

/// The router of the separate metrics listener (`METRICS_BIND_ADDR`): `GET /metrics` only.
pub fn metrics_router(app: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::handler))
        .with_state(app)
}

/// Serves [`metrics_router`] on `listener` until `shutdown` is cancelled.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    app: AppState,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    axum::serve(listener, metrics_router(app))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .context("serve the metrics listener")
}

/// What a WebSocket connection needs to take part in a graceful shutdown: the signal, and the
/// tracker [`serve`] waits on until every socket has sent its close frame.
#[derive(Clone)]
pub struct Shutdown {
    pub token: CancellationToken,
    pub sockets: TaskTracker,
}

/// Serves `router` on `listener` until `shutdown` is cancelled: then it stops accepting, lets
/// in-flight requests finish and closes every WebSocket with `1001 Going Away` (all within 30
/// seconds), and returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let sockets = TaskTracker::new();
    let router = router.layer(axum::Extension(Shutdown {
        token: shutdown.clone(),
        sockets: sockets.clone(),
    }));
    let graceful = shutdown.clone();
    // Small answers and subscription frames go out at once, not after Nagle's delay.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY could not be set");
        }
    });
    // Connect info gives handlers the peer address (the client IP for rate limits).
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move { graceful.cancelled().await });
    let drained = async {
        server.await?;
        // Upgraded connections are no longer the HTTP server's: wait for their close frames.
        sockets.close();
        sockets.wait().await;
        anyhow::Ok(())
    };
    tokio::select! {
        result = drained => result?,
        _ = async {
            shutdown.cancelled().await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        } => tracing::warn!("in-flight requests did not finish within 30 s; stopping anyway"),
    }
    Ok(())
}

/// The SDL of the GraphQL API this server serves (`kabaadwala export-schema`, and the
/// `schema.graphql` the tests compare it with).
pub fn schema_sdl() -> String {
    crate::graphql::schema::sdl()
}
