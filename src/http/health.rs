//! Liveness and readiness.

use axum::{Json, extract::State, http::StatusCode};
use sea_orm::ConnectionTrait as _;
use serde_json::json;

use super::HttpState;

/// The process is up.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// The database and pub/sub answer. 503 otherwise, naming what is down (not why).
pub async fn readyz(State(http): State<HttpState>) -> (StatusCode, Json<serde_json::Value>) {
    let database = http.app.db.execute_unprepared("SELECT 1").await.is_ok();
    let pubsub = http.app.pubsub.ping().await.is_ok();
    let status = if database && pubsub {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if status == StatusCode::OK { "ok" } else { "unavailable" },
            "database": if database { "ok" } else { "down" },
            "pubsub": if pubsub { "ok" } else { "down" },
            "pubsubBackend": http.app.pubsub.backend_name(),
        })),
    )
}
