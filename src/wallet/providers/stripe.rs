//! Stripe PaymentIntents. A recharge is a PaymentIntent (`POST /v1/payment_intents`,
//! `Idempotency-Key` = the recharge id, so a retried create returns the same intent); the app
//! confirms it with the client secret. A payment is proven by a webhook (`Stripe-Signature`:
//! `t=…,v1=…`, hex HMAC-SHA256 of `"{t}.{raw body}"` with the webhook secret, any of several
//! `v1`, the timestamp within 300 s) for `payment_intent.succeeded` or
//! `payment_intent.payment_failed`, or by asking (`GET /v1/payment_intents/{id}`).

use std::time::Duration;

use async_trait::async_trait;
use entity::recharges;
use reqwest::Method;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;

use super::{
    Checkout, Delivery, PaymentEvent, PaymentOutcome, PaymentProof, PaymentProvider, ProofSource,
    ProviderError, RechargeRef, Rejection, VerifiedEvent,
    client::{Auth, Body, ProviderClient},
    signature,
};
use crate::wallet::ledger::CURRENCY;

pub const NAME: &str = "stripe";

/// How far a signature's timestamp may be from now (Stripe's own default).
pub const TOLERANCE_SECS: i64 = 300;

pub struct Stripe {
    webhook_secret: Option<SecretString>,
    api: ProviderClient,
}

impl Stripe {
    pub fn new(
        secret_key: SecretString,
        webhook_secret: Option<SecretString>,
        base: &str,
        timeout: Duration,
    ) -> Result<Self, ProviderError> {
        Ok(Self {
            webhook_secret,
            api: ProviderClient::new(NAME, base, Auth::Bearer(secret_key), timeout)?,
        })
    }
}

/// A PaymentIntent as a proof, when it is decided.
fn intent_proof(intent: &Value, source: ProofSource) -> Option<PaymentProof> {
    let outcome = match intent["status"].as_str()? {
        "succeeded" => PaymentOutcome::Paid,
        "canceled" => PaymentOutcome::Failed("the payment was canceled".into()),
        // A failed attempt leaves the intent `requires_payment_method`: the buyer may retry.
        "requires_payment_method" if intent["last_payment_error"].is_object() => {
            PaymentOutcome::Failed(
                intent["last_payment_error"]["message"]
                    .as_str()
                    .unwrap_or("the payment failed")
                    .chars()
                    .take(300)
                    .collect(),
            )
        }
        _ => return None,
    };
    let amount = match outcome {
        PaymentOutcome::Paid => intent["amount_received"]
            .as_i64()
            .or_else(|| intent["amount"].as_i64())?,
        PaymentOutcome::Failed(_) => intent["amount"].as_i64()?,
    };
    Some(PaymentProof {
        source,
        outcome,
        payment_id: intent["latest_charge"]
            .as_str()
            .or_else(|| intent["id"].as_str())
            .map(str::to_owned),
        amount,
        currency: intent["currency"].as_str()?.to_uppercase(),
    })
}

#[async_trait]
impl PaymentProvider for Stripe {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn create_checkout(
        &self,
        recharge: &recharges::Model,
    ) -> Result<Option<Checkout>, ProviderError> {
        let form = vec![
            ("amount".to_owned(), recharge.amount.to_string()),
            ("currency".to_owned(), CURRENCY.to_lowercase()),
            (
                "automatic_payment_methods[enabled]".to_owned(),
                "true".to_owned(),
            ),
            (
                "description".to_owned(),
                "Kabaadwala wallet recharge".to_owned(),
            ),
            ("metadata[recharge_id]".to_owned(), recharge.id.to_string()),
        ];
        let intent = self
            .api
            .call(
                Method::POST,
                "/v1/payment_intents",
                Some(("Idempotency-Key", recharge.id.to_string())),
                Body::Form(form),
            )
            .await?;
        let id = intent["id"]
            .as_str()
            .ok_or_else(|| ProviderError::Malformed("intent without an id".into()))?;
        if intent["amount"].as_i64() != Some(recharge.amount) {
            return Err(ProviderError::Malformed(
                "the intent's amount differs from the recharge".into(),
            ));
        }
        Ok(Some(Checkout {
            provider_order_id: id.to_owned(),
            client_secret: intent["client_secret"].as_str().map(str::to_owned),
        }))
    }

    fn verify_checkout(&self, _order_id: &str, _payment_id: &str, _signature: &str) -> bool {
        false
    }

    fn verify_webhook(&self, delivery: &Delivery<'_>) -> Result<VerifiedEvent, Rejection> {
        let Some(secret) = &self.webhook_secret else {
            return Err(Rejection::BadSignature);
        };
        let header = (delivery.header)("stripe-signature")
            .and_then(|h| signature::parse_stripe_header(&h))
            .ok_or(Rejection::BadSignature)?;
        // An old (or future) timestamp is a replay, however good its signature.
        if (delivery.now.timestamp() - header.timestamp).abs() > TOLERANCE_SECS {
            return Err(Rejection::BadSignature);
        }
        let mut signed_payload = format!("{}.", header.timestamp).into_bytes();
        signed_payload.extend_from_slice(delivery.body);
        let key = secret.expose_secret().as_bytes();
        if !header
            .v1
            .iter()
            .any(|given| signature::verify_hex(key, &signed_payload, given))
        {
            return Err(Rejection::BadSignature);
        }
        let body: Value = serde_json::from_slice(delivery.body)
            .map_err(|e| Rejection::Malformed(format!("not JSON: {e}")))?;
        match (body["id"].as_str(), body["type"].as_str()) {
            (Some(id), Some(kind)) => Ok(VerifiedEvent {
                event_id: id.to_owned(),
                event_type: kind.to_owned(),
            }),
            _ => Err(Rejection::Malformed(
                "an event needs an id and a type".into(),
            )),
        }
    }

    fn parse_event(&self, event_type: &str, body: &[u8]) -> Result<PaymentEvent, String> {
        if !matches!(
            event_type,
            "payment_intent.succeeded" | "payment_intent.payment_failed"
        ) {
            return Ok(PaymentEvent::Ignored);
        }
        let body: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let intent = &body["data"]["object"];
        let id = intent["id"].as_str().ok_or("the event names no intent")?;
        let mut proof = intent_proof(intent, ProofSource::Webhook)
            .ok_or("the intent has no decided status, amount or currency")?;
        if event_type == "payment_intent.payment_failed" && proof.outcome == PaymentOutcome::Paid {
            return Err("a payment_failed event for a succeeded intent".into());
        }
        if event_type == "payment_intent.succeeded" {
            proof.outcome = PaymentOutcome::Paid;
        }
        Ok(PaymentEvent::Payment {
            recharge: RechargeRef::ProviderOrder {
                order_id: id.to_owned(),
                receipt: intent["metadata"]["recharge_id"]
                    .as_str()
                    .and_then(|r| uuid::Uuid::parse_str(r).ok()),
            },
            proof,
        })
    }

    async fn query(
        &self,
        recharge: &recharges::Model,
    ) -> Result<Option<PaymentProof>, ProviderError> {
        let Some(intent_id) = &recharge.provider_order_id else {
            return Ok(None);
        };
        let intent = self
            .api
            .call(
                Method::GET,
                &format!("/v1/payment_intents/{intent_id}"),
                None,
                Body::None,
            )
            .await?;
        // Only success or cancellation is final; a failed attempt may still be retried.
        Ok(intent_proof(&intent, ProofSource::Reconciliation)
            .filter(|p| p.outcome == PaymentOutcome::Paid || intent["status"] == "canceled"))
    }
}
