//! Payment and payout provider settings (`PAYMENT_PROVIDER`, `RAZORPAY_*`, `STRIPE_*`,
//! `PAYOUT_PROVIDER`, `RAZORPAYX_ACCOUNT_NUMBER`, `RECONCILE_AFTER_MINUTES`, …). A provider needs
//! its keys in every environment; production also refuses the sandbox. Secrets are
//! `SecretString`s: they print as `[REDACTED]`.

use std::time::Duration;

use super::{AppEnv, ConfigError, parse};

/// Which rail new recharges go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentProviderKind {
    /// Built in, approves everything: development only.
    Sandbox,
    Razorpay,
    Stripe,
}

/// Who pays vendors out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayoutProviderKind {
    /// An admin pays by hand and records it with `markPayoutPaid`.
    Manual,
    /// RazorpayX payouts, settled by its webhook.
    Razorpayx,
}

/// The payment-provider settings. The secrets are `SecretString`s: they print as `[REDACTED]`.
#[derive(Clone)]
pub struct PaymentsConfig {
    /// `PAYMENT_PROVIDER`: `sandbox` (default; refused in production), `razorpay` or `stripe`.
    pub provider: PaymentProviderKind,
    /// `RAZORPAY_KEY_ID`: the public key id (Checkout gets it too).
    pub razorpay_key_id: Option<String>,
    /// `RAZORPAY_KEY_SECRET`: the API secret; also signs Checkout's handler result.
    pub razorpay_key_secret: Option<secrecy::SecretString>,
    /// `RAZORPAY_WEBHOOK_SECRET`: signs Razorpay's (and RazorpayX's) webhooks.
    pub razorpay_webhook_secret: Option<secrecy::SecretString>,
    /// `RAZORPAY_API_URL`: default `https://api.razorpay.com` (tests point it at a fake).
    pub razorpay_api_url: String,
    /// `STRIPE_SECRET_KEY`: the API key (`sk_test_…`, `sk_live_…`).
    pub stripe_secret_key: Option<secrecy::SecretString>,
    /// `STRIPE_WEBHOOK_SECRET`: signs Stripe's webhooks (`whsec_…`).
    pub stripe_webhook_secret: Option<secrecy::SecretString>,
    /// `STRIPE_API_URL`: default `https://api.stripe.com`.
    pub stripe_api_url: String,
    /// `PAYOUT_PROVIDER`: `manual` (default) or `razorpayx`.
    pub payout_provider: PayoutProviderKind,
    /// `RAZORPAYX_ACCOUNT_NUMBER`: the RazorpayX account payouts are made from.
    pub razorpayx_account_number: Option<String>,
    /// `RECONCILE_AFTER_MINUTES`: a recharge still PENDING this long is asked about at the
    /// provider (default 15).
    pub reconcile_after_minutes: i64,
    /// `SCHEDULE_RECONCILE`: cron of `reconcile_recharges` (default `0 */5 * * * *`).
    pub schedule_reconcile: String,
    /// `PROVIDER_TIMEOUT_MS`: the longest one provider HTTP call may take (default 10000).
    pub provider_timeout: Duration,
}

impl PaymentsConfig {
    pub(super) fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
        app_env: AppEnv,
    ) -> Result<Self, ConfigError> {
        let secret = |key: &str| get(key).map(secrecy::SecretString::from);
        let provider = match get("PAYMENT_PROVIDER").as_deref() {
            None | Some("sandbox") => PaymentProviderKind::Sandbox,
            Some("razorpay") => PaymentProviderKind::Razorpay,
            Some("stripe") => PaymentProviderKind::Stripe,
            Some(other) => {
                return Err(ConfigError {
                    var: "PAYMENT_PROVIDER",
                    message: format!("expected sandbox, razorpay or stripe, got {other:?}"),
                });
            }
        };
        let payout_provider = match get("PAYOUT_PROVIDER").as_deref() {
            None | Some("manual") => PayoutProviderKind::Manual,
            Some("razorpayx") => PayoutProviderKind::Razorpayx,
            Some(other) => {
                return Err(ConfigError {
                    var: "PAYOUT_PROVIDER",
                    message: format!("expected manual or razorpayx, got {other:?}"),
                });
            }
        };
        let url = |key: &str, default: &str| {
            get(key)
                .unwrap_or_else(|| default.to_owned())
                .trim_end_matches('/')
                .to_owned()
        };
        let config = Self {
            provider,
            razorpay_key_id: get("RAZORPAY_KEY_ID"),
            razorpay_key_secret: secret("RAZORPAY_KEY_SECRET"),
            razorpay_webhook_secret: secret("RAZORPAY_WEBHOOK_SECRET"),
            razorpay_api_url: url("RAZORPAY_API_URL", "https://api.razorpay.com"),
            stripe_secret_key: secret("STRIPE_SECRET_KEY"),
            stripe_webhook_secret: secret("STRIPE_WEBHOOK_SECRET"),
            stripe_api_url: url("STRIPE_API_URL", "https://api.stripe.com"),
            payout_provider,
            razorpayx_account_number: get("RAZORPAYX_ACCOUNT_NUMBER"),
            reconcile_after_minutes: match parse(get, "RECONCILE_AFTER_MINUTES", "15")? {
                n if n >= 1 => n,
                _ => {
                    return Err(ConfigError {
                        var: "RECONCILE_AFTER_MINUTES",
                        message: "must be at least 1".into(),
                    });
                }
            },
            schedule_reconcile: get("SCHEDULE_RECONCILE").unwrap_or_else(|| "0 */5 * * * *".into()),
            provider_timeout: Duration::from_millis(parse(get, "PROVIDER_TIMEOUT_MS", "10000")?),
        };
        // A provider needs its keys in every environment (a half-configured rail fails at the
        // first recharge otherwise); production also refuses the sandbox, which credits money
        // nobody paid.
        let missing = |var: &'static str, what: &str| ConfigError {
            var,
            message: format!("is required with {what}"),
        };
        match config.provider {
            PaymentProviderKind::Sandbox if app_env == AppEnv::Production => {
                return Err(ConfigError {
                    var: "PAYMENT_PROVIDER",
                    message: "the sandbox credits money nobody paid: set razorpay or stripe when \
                              APP_ENV=production"
                        .into(),
                });
            }
            PaymentProviderKind::Sandbox => {}
            PaymentProviderKind::Razorpay => {
                let what = "PAYMENT_PROVIDER=razorpay";
                if config.razorpay_key_id.is_none() {
                    return Err(missing("RAZORPAY_KEY_ID", what));
                }
                if config.razorpay_key_secret.is_none() {
                    return Err(missing("RAZORPAY_KEY_SECRET", what));
                }
                if config.razorpay_webhook_secret.is_none() {
                    return Err(missing("RAZORPAY_WEBHOOK_SECRET", what));
                }
            }
            PaymentProviderKind::Stripe => {
                let what = "PAYMENT_PROVIDER=stripe";
                if config.stripe_secret_key.is_none() {
                    return Err(missing("STRIPE_SECRET_KEY", what));
                }
                if config.stripe_webhook_secret.is_none() {
                    return Err(missing("STRIPE_WEBHOOK_SECRET", what));
                }
            }
        }
        if config.payout_provider == PayoutProviderKind::Razorpayx {
            let what = "PAYOUT_PROVIDER=razorpayx";
            if config.razorpay_key_id.is_none() {
                return Err(missing("RAZORPAY_KEY_ID", what));
            }
            if config.razorpay_key_secret.is_none() {
                return Err(missing("RAZORPAY_KEY_SECRET", what));
            }
            if config.razorpay_webhook_secret.is_none() {
                return Err(missing("RAZORPAY_WEBHOOK_SECRET", what));
            }
            if config.razorpayx_account_number.is_none() {
                return Err(missing("RAZORPAYX_ACCOUNT_NUMBER", what));
            }
        }
        Ok(config)
    }
}
