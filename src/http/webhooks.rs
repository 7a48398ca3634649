//! `POST /webhooks/payments/{provider}`: the raw body is what is signed, so it is read as bytes.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
};
use serde_json::json;

use super::HttpState;
use crate::wallet::webhook::{self, WebhookOutcome};

pub async fn payment(
    State(http): State<HttpState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<serde_json::Value>) {
    let signature = headers.get("x-signature").and_then(|v| v.to_str().ok());
    match webhook::handle(&http.app, &provider, &body, signature).await {
        Ok(WebhookOutcome::BadSignature) => (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "bad signature" })),
        ),
        Ok(WebhookOutcome::Malformed) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "malformed event" })),
        ),
        Ok(WebhookOutcome::Accepted(outcome)) => (
            StatusCode::OK,
            Json(json!({ "received": true, "outcome": outcome })),
        ),
        Err(err) => {
            // The provider will retry; the event is not recorded, so the retry is processed.
            tracing::error!(error = ?err, %provider, "payment webhook failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": "internal error" })),
            )
        }
    }
}
