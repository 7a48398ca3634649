//! Payment-provider webhooks: `POST /webhooks/payments/{provider}` with the raw JSON body signed
//! as `X-Signature: <hex HMAC-SHA256(PAYMENT_WEBHOOK_SECRET, body)>`. Events are recorded by
//! (provider, event id) in the same transaction as their effect, so a redelivered event does
//! nothing, however often it comes.
//!
//! Body: `{"id": "evt_1", "type": "payment.succeeded" | "payment.failed",
//!         "data": {"rechargeId": "<uuid>", "amount": 50000, "reason": "…"}}`

use chrono::Utc;
use entity::webhook_events;
use hmac::{Hmac, Mac as _};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, EntityTrait, QueryFilter, TransactionTrait as _,
};
use serde::Deserialize;
use sha2::Sha256;
use uuid::Uuid;

use super::recharge;
use crate::{AppState, error::AppResult};

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventData {
    recharge_id: Uuid,
    amount: i64,
    reason: Option<String>,
}

/// What the endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// The signature did not match: 401, nothing done.
    BadSignature,
    /// Not an event we understand: 400, nothing done.
    Malformed,
    /// Accepted (200); the string says what it did.
    Accepted(&'static str),
}

pub fn sign(secret: &str, body: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

fn signature_ok(secret: &str, body: &[u8], signature: Option<&str>) -> bool {
    let Some(given) = signature.and_then(|s| hex::decode(s.trim()).ok()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

pub async fn handle(
    state: &AppState,
    provider: &str,
    body: &[u8],
    signature: Option<&str>,
) -> AppResult<WebhookOutcome> {
    if !signature_ok(&state.config.payment_webhook_secret, body, signature) {
        tracing::warn!(%provider, "payment webhook with a bad signature refused");
        return Ok(WebhookOutcome::BadSignature);
    }
    let Ok(event) = serde_json::from_slice::<Event>(body) else {
        return Ok(WebhookOutcome::Malformed);
    };
    let txn = state.db.begin().await?;
    let seen = webhook_events::Entity::find()
        .filter(webhook_events::Column::Provider.eq(provider))
        .filter(webhook_events::Column::EventId.eq(event.id.as_str()))
        .one(&txn)
        .await?;
    if seen.is_some() {
        return Ok(WebhookOutcome::Accepted("duplicate"));
    }
    let outcome = match recharge::find(&txn, event.data.recharge_id).await? {
        None => {
            tracing::warn!(%provider, event = %event.id, recharge = %event.data.recharge_id, "webhook for an unknown recharge; acknowledged without a credit");
            "unknown_recharge"
        }
        Some(found) if found.amount != event.data.amount || found.provider != provider => {
            tracing::error!(%provider, event = %event.id, recharge = %found.id, "webhook amount or provider does not match the recharge; not credited");
            "mismatch"
        }
        Some(found) => match event.kind.as_str() {
            "payment.succeeded" => {
                if recharge::succeed(&txn, found.id).await? {
                    "credited"
                } else {
                    "already_settled"
                }
            }
            "payment.failed" => {
                let reason = event
                    .data
                    .reason
                    .as_deref()
                    .unwrap_or("declined by the provider");
                if recharge::fail(&txn, found.id, reason).await? {
                    "failed"
                } else {
                    "already_settled"
                }
            }
            _ => "ignored",
        },
    };
    // Recording the event in the same transaction: a concurrent redelivery loses on the
    // unique (provider, event id) index and its effects roll back with it.
    webhook_events::Entity::insert(webhook_events::ActiveModel {
        id: Set(crate::db::new_id()),
        provider: Set(provider.to_owned()),
        event_id: Set(event.id.clone()),
        event_type: Set(event.kind.clone()),
        outcome: Set(outcome.to_owned()),
        received_at: Set(Utc::now()),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(WebhookOutcome::Accepted(outcome))
}
