//! Razorpay: the Orders API and Checkout. A recharge is a Razorpay order (`POST /v1/orders`,
//! amount in paise, `receipt` = the recharge id); the app opens Checkout with the order id and
//! our key id. A payment is proven by Checkout's handler result (hex HMAC-SHA256 of
//! `order_id|payment_id` with the key secret), by a webhook (`X-Razorpay-Signature`: hex
//! HMAC-SHA256 of the raw body with the webhook secret; `X-Razorpay-Event-Id` names the event)
//! for `payment.captured`, `order.paid` or `payment.failed`, or by asking
//! (`GET /v1/orders/{id}/payments`).

use std::time::Duration;

use async_trait::async_trait;
use entity::recharges;
use reqwest::Method;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

use super::{
    Checkout, Delivery, PaymentEvent, PaymentOutcome, PaymentProof, PaymentProvider, ProofSource,
    ProviderError, RechargeRef, Rejection, VerifiedEvent,
    client::{Auth, Body, ProviderClient},
    signature,
};
use crate::wallet::ledger::CURRENCY;

pub const NAME: &str = "razorpay";

/// Razorpay's keys (RazorpayX uses the same).
#[derive(Clone)]
pub struct RazorpayKeys {
    pub key_id: String,
    pub key_secret: SecretString,
    pub webhook_secret: Option<SecretString>,
}

impl RazorpayKeys {
    pub fn client(&self, base: &str, timeout: Duration) -> Result<ProviderClient, ProviderError> {
        ProviderClient::new(
            NAME,
            base,
            Auth::Basic {
                user: self.key_id.clone(),
                secret: self.key_secret.clone(),
            },
            timeout,
        )
    }

    /// Verifies `X-Razorpay-Signature` on the raw body and reads the event id and type.
    pub fn verify_webhook(&self, delivery: &Delivery<'_>) -> Result<VerifiedEvent, Rejection> {
        let Some(secret) = &self.webhook_secret else {
            return Err(Rejection::BadSignature);
        };
        let signed = (delivery.header)("x-razorpay-signature").is_some_and(|given| {
            signature::verify_hex(secret.expose_secret().as_bytes(), delivery.body, &given)
        });
        if !signed {
            return Err(Rejection::BadSignature);
        }
        let body: Value = serde_json::from_slice(delivery.body)
            .map_err(|e| Rejection::Malformed(format!("not JSON: {e}")))?;
        let event_type = body["event"]
            .as_str()
            .ok_or_else(|| Rejection::Malformed("no event type".into()))?;
        let event_id = (delivery.header)("x-razorpay-event-id")
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| Rejection::Malformed("no X-Razorpay-Event-Id".into()))?;
        Ok(VerifiedEvent {
            event_id,
            event_type: event_type.to_owned(),
        })
    }
}

pub struct Razorpay {
    keys: RazorpayKeys,
    api: ProviderClient,
}

impl Razorpay {
    pub fn new(keys: RazorpayKeys, base: &str, timeout: Duration) -> Result<Self, ProviderError> {
        Ok(Self {
            api: keys.client(base, timeout)?,
            keys,
        })
    }

    pub fn key_id(&self) -> &str {
        &self.keys.key_id
    }
}

/// A Razorpay payment entity as a proof.
fn payment_proof(payment: &Value, source: ProofSource) -> Option<PaymentProof> {
    let outcome = match payment["status"].as_str()? {
        "captured" => PaymentOutcome::Paid,
        "failed" => PaymentOutcome::Failed(
            payment["error_description"]
                .as_str()
                .unwrap_or("the payment failed")
                .chars()
                .take(300)
                .collect(),
        ),
        // created, authorized (not yet captured), refunded: no proof of money kept.
        _ => return None,
    };
    Some(PaymentProof {
        source,
        outcome,
        payment_id: payment["id"].as_str().map(str::to_owned),
        amount: payment["amount"].as_i64()?,
        currency: payment["currency"].as_str()?.to_uppercase(),
    })
}

#[async_trait]
impl PaymentProvider for Razorpay {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn create_checkout(
        &self,
        recharge: &recharges::Model,
    ) -> Result<Option<Checkout>, ProviderError> {
        let order = self
            .api
            .call(
                Method::POST,
                "/v1/orders",
                None,
                Body::Json(json!({
                    "amount": recharge.amount,
                    "currency": CURRENCY,
                    "receipt": recharge.id.to_string(),
                    "notes": { "recharge_id": recharge.id.to_string() },
                })),
            )
            .await?;
        let id = order["id"]
            .as_str()
            .ok_or_else(|| ProviderError::Malformed("order without an id".into()))?;
        if order["amount"].as_i64() != Some(recharge.amount) {
            return Err(ProviderError::Malformed(
                "the order's amount differs from the recharge".into(),
            ));
        }
        Ok(Some(Checkout {
            provider_order_id: id.to_owned(),
            client_secret: None,
        }))
    }

    fn verify_checkout(&self, order_id: &str, payment_id: &str, signature: &str) -> bool {
        signature::verify_hex(
            self.keys.key_secret.expose_secret().as_bytes(),
            format!("{order_id}|{payment_id}").as_bytes(),
            signature,
        )
    }

    fn verify_webhook(&self, delivery: &Delivery<'_>) -> Result<VerifiedEvent, Rejection> {
        self.keys.verify_webhook(delivery)
    }

    fn parse_event(&self, event_type: &str, body: &[u8]) -> Result<PaymentEvent, String> {
        if !matches!(
            event_type,
            "payment.captured" | "order.paid" | "payment.failed"
        ) {
            return Ok(PaymentEvent::Ignored);
        }
        let body: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let payment = &body["payload"]["payment"]["entity"];
        let order_id = match event_type {
            "order.paid" => body["payload"]["order"]["entity"]["id"].as_str(),
            _ => payment["order_id"].as_str(),
        }
        .ok_or("the event names no order")?;
        // A retried order creation may have made a second order for the same recharge: the
        // receipt (our recharge id, on an order only we can create) still says whose it is.
        let receipt = body["payload"]["order"]["entity"]["receipt"]
            .as_str()
            .and_then(|r| uuid::Uuid::parse_str(r).ok());
        let proof = payment_proof(payment, ProofSource::Webhook)
            .ok_or("the event's payment has no status, amount or currency we can read")?;
        Ok(PaymentEvent::Payment {
            recharge: RechargeRef::ProviderOrder {
                order_id: order_id.to_owned(),
                receipt,
            },
            proof,
        })
    }

    async fn query(
        &self,
        recharge: &recharges::Model,
    ) -> Result<Option<PaymentProof>, ProviderError> {
        let Some(order_id) = &recharge.provider_order_id else {
            return Ok(None);
        };
        let payments = self
            .api
            .call(
                Method::GET,
                &format!("/v1/orders/{order_id}/payments"),
                None,
                Body::None,
            )
            .await?;
        // A failed attempt does not end the order (the buyer may try again in Checkout): only a
        // captured payment is an answer; an order with none expires after a day.
        Ok(payments["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| payment_proof(p, ProofSource::Reconciliation))
            .find(|p| p.outcome == PaymentOutcome::Paid))
    }
}
