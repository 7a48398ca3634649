//! The development sandbox: no API, it decides by itself. It approves every recharge except
//! amounts ending in 13 paise (a test value, like a sandbox card number), which it declines. Its
//! webhook (`POST /webhooks/payments/sandbox`, `X-Signature: hex HMAC-SHA256 of the body with
//! PAYMENT_WEBHOOK_SECRET`) lets a developer play the provider:
//! `{"id": "evt_1", "type": "payment.succeeded" | "payment.failed",
//!   "data": {"rechargeId": "<uuid>", "amount": 50000, "reason": "…"}}`.
//! Never built with `APP_ENV=production`.

use async_trait::async_trait;
use entity::recharges;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    Checkout, Delivery, PaymentEvent, PaymentOutcome, PaymentProof, PaymentProvider, ProofSource,
    ProviderError, RechargeRef, Rejection, VerifiedEvent, signature,
};
use crate::wallet::ledger::CURRENCY;

pub const NAME: &str = "sandbox";

pub struct Sandbox {
    webhook_secret: SecretString,
}

impl Sandbox {
    pub fn new(webhook_secret: SecretString) -> Self {
        Self { webhook_secret }
    }
}

#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct Event {
    data: EventData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventData {
    recharge_id: Uuid,
    amount: i64,
    reason: Option<String>,
}

/// Signs a sandbox webhook body (for developers and tests playing the provider).
pub fn sign(secret: &str, body: &[u8]) -> String {
    signature::hex_hmac(secret.as_bytes(), body)
}

#[async_trait]
impl PaymentProvider for Sandbox {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn create_checkout(
        &self,
        _recharge: &recharges::Model,
    ) -> Result<Option<Checkout>, ProviderError> {
        Ok(None)
    }

    fn verify_checkout(&self, _order_id: &str, _payment_id: &str, _signature: &str) -> bool {
        false
    }

    fn verify_webhook(&self, delivery: &Delivery<'_>) -> Result<VerifiedEvent, Rejection> {
        let signed = (delivery.header)("x-signature").is_some_and(|given| {
            signature::verify_hex(
                self.webhook_secret.expose_secret().as_bytes(),
                delivery.body,
                &given,
            )
        });
        if !signed {
            return Err(Rejection::BadSignature);
        }
        let envelope: Envelope = serde_json::from_slice(delivery.body)
            .map_err(|e| Rejection::Malformed(format!("not a sandbox event: {e}")))?;
        Ok(VerifiedEvent {
            event_id: envelope.id,
            event_type: envelope.kind,
        })
    }

    fn parse_event(&self, event_type: &str, body: &[u8]) -> Result<PaymentEvent, String> {
        let outcome = match event_type {
            "payment.succeeded" => None,
            "payment.failed" => Some(()),
            _ => return Ok(PaymentEvent::Ignored),
        };
        let event: Event = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        Ok(PaymentEvent::Payment {
            recharge: RechargeRef::Recharge(event.data.recharge_id),
            proof: PaymentProof {
                source: ProofSource::Webhook,
                outcome: match outcome {
                    None => PaymentOutcome::Paid,
                    Some(()) => PaymentOutcome::Failed(
                        event
                            .data
                            .reason
                            .unwrap_or_else(|| "declined by the provider".into()),
                    ),
                },
                payment_id: None,
                amount: event.data.amount,
                currency: CURRENCY.to_owned(),
            },
        })
    }

    async fn query(
        &self,
        recharge: &recharges::Model,
    ) -> Result<Option<PaymentProof>, ProviderError> {
        let outcome = if recharge.amount % 100 == 13 {
            PaymentOutcome::Failed("declined by the sandbox (amount ends in 13 paise)".into())
        } else {
            PaymentOutcome::Paid
        };
        Ok(Some(PaymentProof {
            source: ProofSource::Sandbox,
            outcome,
            payment_id: Some(format!("sandbox_{}", recharge.id.simple())),
            amount: recharge.amount,
            currency: CURRENCY.to_owned(),
        }))
    }
}
