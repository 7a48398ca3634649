//! Provider webhooks: `POST /webhooks/payments/{sandbox|razorpay|stripe}` and
//! `POST /webhooks/payouts/razorpayx`. The raw body is what is signed, so it is read as bytes and
//! handed over untouched; the event is verified and stored, and the answer goes back at once
//! (the work is queued). Bad signature → 401; a rail not configured here → 404; an event seen
//! before → 200 and nothing changes; a store that failed → 500, so the provider retries.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
};
use chrono::Utc;
use serde_json::json;

use super::HttpState;
use crate::{
    jobs::job::Queued,
    payouts::jobs::ProcessPayoutEvent,
    wallet::{
        jobs::ProcessPaymentEvent,
        providers::Delivery,
        webhook::{self, Receipt},
    },
};

type Answer = (StatusCode, Json<serde_json::Value>);

fn answer(provider: &str, receipt: crate::error::AppResult<Receipt>) -> Answer {
    match receipt {
        Ok(Receipt::NotConfigured) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no such provider here" })),
        ),
        Ok(Receipt::BadSignature) => (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "bad signature" })),
        ),
        Ok(Receipt::Malformed(_)) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "malformed event" })),
        ),
        Ok(Receipt::Accepted { duplicate }) => (
            StatusCode::OK,
            Json(json!({ "received": true, "duplicate": duplicate })),
        ),
        Err(err) => {
            // Nothing was stored, so the provider's retry is processed.
            tracing::error!(error = ?err, %provider, "webhook could not be stored");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": "internal error" })),
            )
        }
    }
}

fn header_lookup(headers: &HeaderMap) -> impl Fn(&str) -> Option<String> + Sync + '_ {
    |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

pub async fn payment(
    State(http): State<HttpState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let Some(rail) = http.app.providers.payment(&provider) else {
        return answer(&provider, Ok(Receipt::NotConfigured));
    };
    let header = header_lookup(&headers);
    let delivery = Delivery {
        body: &body,
        header: &header,
        now: Utc::now(),
    };
    let receipt = webhook::receive(
        &http.app,
        rail.name(),
        |event_id| Queued::of(&ProcessPaymentEvent { event_id }),
        &delivery,
        |d| rail.verify_webhook(d),
    )
    .await;
    answer(&provider, receipt)
}

pub async fn payout(
    State(http): State<HttpState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let rail = http.app.providers.payouts();
    if !rail.is_automatic() || rail.name() != provider {
        return answer(&provider, Ok(Receipt::NotConfigured));
    }
    let header = header_lookup(&headers);
    let delivery = Delivery {
        body: &body,
        header: &header,
        now: Utc::now(),
    };
    let receipt = webhook::receive(
        &http.app,
        rail.name(),
        |event_id| Queued::of(&ProcessPayoutEvent { event_id }),
        &delivery,
        |d| rail.verify_webhook(d),
    )
    .await;
    answer(&provider, receipt)
}
