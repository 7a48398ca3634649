//! Liveness and readiness. Readiness follows what the API can still do: without the database
//! nothing works (503, take the instance out of rotation); without pub/sub (Redis) queries and
//! mutations keep working and only real-time delivery pauses until it reconnects, so the
//! instance stays in rotation and reports itself `degraded`.

use axum::{Json, extract::State, http::StatusCode};
use sea_orm::ConnectionTrait as _;
use serde_json::json;

use super::HttpState;

/// The process is up.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 `ok` when the database and pub/sub answer, 200 `degraded` when only
/// pub/sub does not, 503 `unavailable` when the database does not. Names what is down, not why.
pub async fn readyz(State(http): State<HttpState>) -> (StatusCode, Json<serde_json::Value>) {
    let database = http.app.db.execute_unprepared("SELECT 1").await.is_ok();
    let pubsub = http.app.pubsub.ping().await.is_ok();
    let (status, mut body) = readiness(database, pubsub);
    body["pubsubBackend"] = json!(http.app.pubsub.backend_name());
    (status, Json(body))
}

/// The answer for what answered: the status code and the body without the backend's name.
fn readiness(database: bool, pubsub: bool) -> (StatusCode, serde_json::Value) {
    let (status, overall) = match (database, pubsub) {
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        (true, false) => (StatusCode::OK, "degraded"),
        (true, true) => (StatusCode::OK, "ok"),
    };
    (
        status,
        json!({
            "status": overall,
            "database": if database { "ok" } else { "down" },
            "pubsub": if pubsub { "ok" } else { "unreachable" },
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_missing_database_makes_the_instance_unready() {
        let answer = |database, pubsub| {
            let (status, body) = readiness(database, pubsub);
            (status.as_u16(), body["status"].clone())
        };
        assert_eq!(answer(true, true), (200, json!("ok")));
        assert_eq!(answer(true, false), (200, json!("degraded")));
        assert_eq!(answer(false, true), (503, json!("unavailable")));
        assert_eq!(answer(false, false), (503, json!("unavailable")));
    }
}
