//! Payment and payout providers. A [`PaymentProvider`] per rail (the development sandbox,
//! Razorpay, Stripe) takes money in; a [`PayoutProvider`] (manual, RazorpayX) sends it out.
//! [`Providers`] is built once from the configuration: new recharges go to
//! `PAYMENT_PROVIDER`, while every configured rail keeps answering webhooks and reconciliation
//! for the recharges it already holds. The sandbox exists only outside production.
//!
//! A provider never moves money: it turns what the provider said (a Checkout result, a webhook
//! event, an answer to a query) into a [`PaymentProof`], and `recharge::settle_recharge` is
//! the one place a proof becomes a credit.

pub mod client;
pub mod razorpay;
pub mod razorpayx;
pub mod sandbox;
pub mod signature;
pub mod stripe;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use entity::{payouts, recharges};
use uuid::Uuid;

use crate::{
    config::{
        AppEnv, Config,
        payments::{PaymentProviderKind, PayoutProviderKind},
    },
    error::AppError,
};

/// Something a provider call could not do.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// Timed out, could not connect, or answered 429/5xx through every retry.
    #[error("payment provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the request (4xx), with its own description.
    #[error("the payment provider refused: {message}")]
    Refused { status: u16, message: String },
    /// An answer we could not read.
    #[error("unreadable provider answer: {0}")]
    Malformed(String),
    /// This rail cannot do that (the sandbox has no API, manual payouts have no provider).
    #[error("{0}")]
    Unsupported(&'static str),
}

impl From<ProviderError> for AppError {
    fn from(err: ProviderError) -> Self {
        match err {
            // What the provider refused is what the client sent (a VPA that does not exist).
            ProviderError::Refused { message, .. } => {
                AppError::bad_request(format!("the payment provider refused: {message}"))
            }
            other => AppError::internal(anyhow::Error::new(other)),
        }
    }
}

/// What the app needs to open the provider's payment page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// The Razorpay order id or the Stripe PaymentIntent id.
    pub provider_order_id: String,
    /// Stripe's client secret for the PaymentIntent.
    pub client_secret: Option<String>,
}

/// How a proof came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofSource {
    /// Razorpay Checkout's handler result, signature verified.
    Checkout,
    /// A verified webhook event.
    Webhook,
    /// The provider's answer to a reconciliation query.
    Reconciliation,
    /// The development sandbox's own decision.
    Sandbox,
}

/// What the provider says happened to the payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentOutcome {
    Paid,
    Failed(String),
}

/// A provider's statement about a recharge's payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentProof {
    pub source: ProofSource,
    pub outcome: PaymentOutcome,
    /// The provider's payment id (`pay_…`, `pi_…`/`ch_…`).
    pub payment_id: Option<String>,
    /// In paise, as the provider reports it.
    pub amount: i64,
    /// ISO 4217, upper case.
    pub currency: String,
}

/// Which recharge an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RechargeRef {
    /// The provider's order (Razorpay order, Stripe PaymentIntent) we stored on the recharge,
    /// and the recharge id the order carries (Razorpay's `receipt`), if the event shows it.
    ProviderOrder {
        order_id: String,
        receipt: Option<Uuid>,
    },
    /// Our own recharge id (the sandbox's events).
    Recharge(Uuid),
}

/// What a verified payment event means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentEvent {
    Payment {
        recharge: RechargeRef,
        proof: PaymentProof,
    },
    /// An event type we do not act on.
    Ignored,
}

/// A webhook delivery: the raw body and a header lookup.
pub struct Delivery<'a> {
    pub body: &'a [u8],
    pub header: &'a (dyn Fn(&str) -> Option<String> + Sync),
    pub now: DateTime<Utc>,
}

/// The identity of a delivery whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEvent {
    pub event_id: String,
    pub event_type: String,
}

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Missing or wrong signature, or (Stripe) a timestamp outside the tolerance: 401.
    BadSignature,
    /// Signed, but not an event we can read: 400.
    Malformed(String),
}

/// One rail that takes money in.
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// `sandbox`, `razorpay`, `stripe`: stored on each recharge.
    fn name(&self) -> &'static str;

    /// Creates the provider's order for `recharge`. None when there is nothing to open (the
    /// sandbox decides by itself).
    async fn create_checkout(
        &self,
        recharge: &recharges::Model,
    ) -> Result<Option<Checkout>, ProviderError>;

    /// Whether `signature` is the provider's signature of a Checkout result for `order_id`.
    /// Only Razorpay has one.
    fn verify_checkout(&self, order_id: &str, payment_id: &str, signature: &str) -> bool;

    /// Verifies a webhook delivery on its raw body.
    fn verify_webhook(&self, delivery: &Delivery<'_>) -> Result<VerifiedEvent, Rejection>;

    /// Reads a stored, verified event.
    fn parse_event(&self, event_type: &str, body: &[u8]) -> Result<PaymentEvent, String>;

    /// Asks the provider what became of `recharge`'s payment: a proof, or None while nothing
    /// is decided.
    async fn query(
        &self,
        recharge: &recharges::Model,
    ) -> Result<Option<PaymentProof>, ProviderError>;
}

/// Where a payout goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountDetails {
    Vpa(String),
    Bank {
        account_number: String,
        ifsc: String,
        holder_name: String,
    },
}

/// Who is paid.
#[derive(Debug, Clone)]
pub struct AccountHolder {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
}

/// The provider's records of a payout account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisteredAccount {
    pub contact_id: Option<String>,
    pub fund_account_id: Option<String>,
}

/// How a payout travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayoutMode {
    Upi,
    Imps,
    Neft,
}

impl PayoutMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upi => "UPI",
            Self::Imps => "IMPS",
            Self::Neft => "NEFT",
        }
    }
}

/// What a verified payout event means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutEvent {
    /// The money reached the account; `utr` is the bank reference.
    Processed {
        provider_payout_id: String,
        payout_id: Option<Uuid>,
        amount: i64,
        currency: String,
        utr: Option<String>,
    },
    /// Reversed, failed or rejected: the money did not (or no longer) reach the account.
    Returned {
        provider_payout_id: String,
        payout_id: Option<Uuid>,
        amount: i64,
        currency: String,
        reason: String,
    },
    Ignored,
}

/// The rail that sends money out.
#[async_trait]
pub trait PayoutProvider: Send + Sync {
    /// `manual` or `razorpayx`.
    fn name(&self) -> &'static str;

    /// Whether payouts are sent by the provider (and settled by its webhook) rather than
    /// marked paid by an admin.
    fn is_automatic(&self) -> bool;

    /// Registers a payout account with the provider.
    async fn register_account(
        &self,
        holder: &AccountHolder,
        details: &AccountDetails,
    ) -> Result<RegisteredAccount, ProviderError>;

    /// Sends `payout` to `fund_account_id`; the provider's payout id.
    async fn create_payout(
        &self,
        payout: &payouts::Model,
        fund_account_id: &str,
        mode: PayoutMode,
    ) -> Result<String, ProviderError>;

    /// Verifies a payout webhook delivery on its raw body.
    fn verify_webhook(&self, delivery: &Delivery<'_>) -> Result<VerifiedEvent, Rejection>;

    /// Reads a stored, verified payout event.
    fn parse_event(&self, event_type: &str, body: &[u8]) -> Result<PayoutEvent, String>;
}

/// Payouts an admin makes by hand and records with `markPayoutPaid`.
pub struct ManualPayouts;

#[async_trait]
impl PayoutProvider for ManualPayouts {
    fn name(&self) -> &'static str {
        "manual"
    }

    fn is_automatic(&self) -> bool {
        false
    }

    async fn register_account(
        &self,
        _holder: &AccountHolder,
        _details: &AccountDetails,
    ) -> Result<RegisteredAccount, ProviderError> {
        Ok(RegisteredAccount::default())
    }

    async fn create_payout(
        &self,
        _payout: &payouts::Model,
        _fund_account_id: &str,
        _mode: PayoutMode,
    ) -> Result<String, ProviderError> {
        Err(ProviderError::Unsupported(
            "manual payouts are paid by hand and recorded with markPayoutPaid",
        ))
    }

    fn verify_webhook(&self, _delivery: &Delivery<'_>) -> Result<VerifiedEvent, Rejection> {
        Err(Rejection::BadSignature)
    }

    fn parse_event(&self, _event_type: &str, _body: &[u8]) -> Result<PayoutEvent, String> {
        Ok(PayoutEvent::Ignored)
    }
}

/// Every configured rail.
pub struct Providers {
    new_recharges: PaymentProviderKind,
    sandbox: Option<Arc<sandbox::Sandbox>>,
    razorpay: Option<Arc<razorpay::Razorpay>>,
    stripe: Option<Arc<stripe::Stripe>>,
    payout: Arc<dyn PayoutProvider>,
}

impl Providers {
    pub fn from_config(config: &Config) -> Result<Self, ProviderError> {
        let payments = &config.payments;
        let sandbox = (config.app_env != AppEnv::Production)
            .then(|| Arc::new(sandbox::Sandbox::new(config.payment_webhook_secret.clone())));
        let razorpay = match (&payments.razorpay_key_id, &payments.razorpay_key_secret) {
            (Some(id), Some(secret)) => Some(Arc::new(razorpay::Razorpay::new(
                razorpay::RazorpayKeys {
                    key_id: id.clone(),
                    key_secret: secret.clone(),
                    webhook_secret: payments.razorpay_webhook_secret.clone(),
                },
                &payments.razorpay_api_url,
                payments.provider_timeout,
            )?)),
            _ => None,
        };
        let stripe = match &payments.stripe_secret_key {
            Some(key) => Some(Arc::new(stripe::Stripe::new(
                key.clone(),
                payments.stripe_webhook_secret.clone(),
                &payments.stripe_api_url,
                payments.provider_timeout,
            )?)),
            None => None,
        };
        let payout: Arc<dyn PayoutProvider> = match (
            payments.payout_provider,
            &payments.razorpay_key_id,
            &payments.razorpay_key_secret,
            &payments.razorpayx_account_number,
        ) {
            (PayoutProviderKind::Razorpayx, Some(id), Some(secret), Some(account)) => {
                Arc::new(razorpayx::RazorpayX::new(
                    razorpay::RazorpayKeys {
                        key_id: id.clone(),
                        key_secret: secret.clone(),
                        webhook_secret: payments.razorpay_webhook_secret.clone(),
                    },
                    account.clone(),
                    &payments.razorpay_api_url,
                    payments.provider_timeout,
                )?)
            }
            _ => Arc::new(ManualPayouts),
        };
        Ok(Self {
            new_recharges: payments.provider,
            sandbox,
            razorpay,
            stripe,
            payout,
        })
    }

    /// The rail new recharges go through.
    pub fn for_new_recharges(&self) -> Option<Arc<dyn PaymentProvider>> {
        self.payment(match self.new_recharges {
            PaymentProviderKind::Sandbox => sandbox::NAME,
            PaymentProviderKind::Razorpay => razorpay::NAME,
            PaymentProviderKind::Stripe => stripe::NAME,
        })
    }

    /// The rail named `name`, when it is configured (the sandbox never is in production).
    pub fn payment(&self, name: &str) -> Option<Arc<dyn PaymentProvider>> {
        match name {
            sandbox::NAME => self.sandbox.clone().map(|p| p as Arc<dyn PaymentProvider>),
            razorpay::NAME => self.razorpay.clone().map(|p| p as Arc<dyn PaymentProvider>),
            stripe::NAME => self.stripe.clone().map(|p| p as Arc<dyn PaymentProvider>),
            _ => None,
        }
    }

    /// Razorpay's public key id, for Checkout.
    pub fn razorpay_key_id(&self) -> Option<&str> {
        self.razorpay.as_deref().map(razorpay::Razorpay::key_id)
    }

    /// The payout rail.
    pub fn payouts(&self) -> Arc<dyn PayoutProvider> {
        self.payout.clone()
    }
}
