//! RazorpayX payouts. A payout account is a contact (`POST /v1/contacts`) with a fund account
//! (`POST /v1/fund_accounts`: a VPA or a bank account); a payout is `POST /v1/payouts` from
//! `RAZORPAYX_ACCOUNT_NUMBER` with `X-Payout-Idempotency` = our payout id, so a retried create
//! never pays twice. Its webhook (`POST /webhooks/payouts/razorpayx`, signed like Razorpay's)
//! reports `payout.processed` (with the UTR) and `payout.reversed`, `payout.failed`,
//! `payout.rejected`.

use std::time::Duration;

use async_trait::async_trait;
use entity::payouts;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    AccountDetails, AccountHolder, Delivery, PayoutEvent, PayoutMode, PayoutProvider,
    ProviderError, RegisteredAccount, Rejection, VerifiedEvent,
    client::{Body, ProviderClient},
    razorpay::RazorpayKeys,
};
use crate::wallet::ledger::CURRENCY;

pub const NAME: &str = "razorpayx";

pub struct RazorpayX {
    keys: RazorpayKeys,
    account_number: String,
    api: ProviderClient,
}

impl RazorpayX {
    pub fn new(
        keys: RazorpayKeys,
        account_number: String,
        base: &str,
        timeout: Duration,
    ) -> Result<Self, ProviderError> {
        Ok(Self {
            api: keys.client(base, timeout)?,
            keys,
            account_number,
        })
    }
}

fn id_of(value: &Value, what: &str) -> Result<String, ProviderError> {
    value["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ProviderError::Malformed(format!("{what} without an id")))
}

#[async_trait]
impl PayoutProvider for RazorpayX {
    fn name(&self) -> &'static str {
        NAME
    }

    fn is_automatic(&self) -> bool {
        true
    }

    async fn register_account(
        &self,
        holder: &AccountHolder,
        details: &AccountDetails,
    ) -> Result<RegisteredAccount, ProviderError> {
        // RazorpayX returns the existing contact and fund account for identical details, so a
        // retry registers nothing twice.
        let contact = self
            .api
            .call(
                Method::POST,
                "/v1/contacts",
                None,
                Body::Json(json!({
                    "name": holder.name,
                    "email": holder.email,
                    "type": "vendor",
                    "reference_id": holder.user_id.to_string(),
                })),
            )
            .await?;
        let contact_id = id_of(&contact, "contact")?;
        let body = match details {
            AccountDetails::Vpa(vpa) => json!({
                "contact_id": contact_id,
                "account_type": "vpa",
                "vpa": { "address": vpa },
            }),
            AccountDetails::Bank {
                account_number,
                ifsc,
                holder_name,
            } => json!({
                "contact_id": contact_id,
                "account_type": "bank_account",
                "bank_account": { "name": holder_name, "ifsc": ifsc, "account_number": account_number },
            }),
        };
        let fund = self
            .api
            .call(Method::POST, "/v1/fund_accounts", None, Body::Json(body))
            .await?;
        Ok(RegisteredAccount {
            contact_id: Some(contact_id),
            fund_account_id: Some(id_of(&fund, "fund account")?),
        })
    }

    async fn create_payout(
        &self,
        payout: &payouts::Model,
        fund_account_id: &str,
        mode: PayoutMode,
    ) -> Result<String, ProviderError> {
        let created = self
            .api
            .call(
                Method::POST,
                "/v1/payouts",
                Some(("X-Payout-Idempotency", payout.id.to_string())),
                Body::Json(json!({
                    "account_number": self.account_number,
                    "fund_account_id": fund_account_id,
                    "amount": payout.amount,
                    "currency": CURRENCY,
                    "mode": mode.as_str(),
                    "purpose": "payout",
                    "queue_if_low_balance": true,
                    "reference_id": payout.id.to_string(),
                    "narration": "Kabaadwala payout",
                })),
            )
            .await?;
        if created["amount"].as_i64() != Some(payout.amount) {
            return Err(ProviderError::Malformed(
                "the payout's amount differs from ours".into(),
            ));
        }
        id_of(&created, "payout")
    }

    fn verify_webhook(&self, delivery: &Delivery<'_>) -> Result<VerifiedEvent, Rejection> {
        self.keys.verify_webhook(delivery)
    }

    fn parse_event(&self, event_type: &str, body: &[u8]) -> Result<PayoutEvent, String> {
        let returned = match event_type {
            "payout.processed" => false,
            "payout.reversed" | "payout.failed" | "payout.rejected" => true,
            _ => return Ok(PayoutEvent::Ignored),
        };
        let body: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let payout = &body["payload"]["payout"]["entity"];
        let provider_payout_id = payout["id"]
            .as_str()
            .ok_or("the event names no payout")?
            .to_owned();
        let payout_id = payout["reference_id"]
            .as_str()
            .and_then(|r| Uuid::parse_str(r).ok());
        let amount = payout["amount"].as_i64().ok_or("no amount")?;
        let currency = payout["currency"]
            .as_str()
            .ok_or("no currency")?
            .to_uppercase();
        Ok(if returned {
            let reason = payout["status_details"]["description"]
                .as_str()
                .or_else(|| payout["failure_reason"].as_str())
                .unwrap_or(event_type)
                .chars()
                .take(300)
                .collect();
            PayoutEvent::Returned {
                provider_payout_id,
                payout_id,
                amount,
                currency,
                reason,
            }
        } else {
            PayoutEvent::Processed {
                provider_payout_id,
                payout_id,
                amount,
                currency,
                utr: payout["utr"].as_str().map(str::to_owned),
            }
        })
    }
}
