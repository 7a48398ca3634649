//! Rate-limit settings (`RATE_LIMIT_*`): the numbers only; [`crate::ratelimit`] counts.

use std::{fmt, str::FromStr};

use super::{ConfigError, parse};

/// At most `limit` attempts per `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub limit: u32,
    pub window_secs: u64,
}

impl FromStr for Rule {
    type Err = String;

    /// `<limit>/<window seconds>`, e.g. `10/900`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (limit, window) = s
            .split_once('/')
            .ok_or_else(|| "expected <limit>/<window seconds>".to_owned())?;
        let limit = limit.trim().parse().map_err(|e| format!("limit: {e}"))?;
        let window_secs: u64 = window.trim().parse().map_err(|e| format!("window: {e}"))?;
        if window_secs == 0 {
            return Err("the window must be at least one second".into());
        }
        Ok(Self { limit, window_secs })
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.limit, self.window_secs)
    }
}

/// The two counters of one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionLimits {
    pub ip: Rule,
    pub account: Rule,
}

/// Every limit, from `RATE_LIMIT_*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    pub login: ActionLimits,
    pub otp: ActionLimits,
    pub password_reset: ActionLimits,
    pub register: ActionLimits,
    pub recharge: ActionLimits,
    /// Prefix of the Redis keys (`RATE_LIMIT_KEY_PREFIX`, default `kw`).
    pub key_prefix: String,
}

impl RateLimits {
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            login: limits(
                get,
                "RATE_LIMIT_LOGIN_IP",
                "30/300",
                "RATE_LIMIT_LOGIN_ACCOUNT",
                "10/900",
            )?,
            otp: limits(
                get,
                "RATE_LIMIT_OTP_IP",
                "30/300",
                "RATE_LIMIT_OTP_ACCOUNT",
                "10/600",
            )?,
            password_reset: limits(
                get,
                "RATE_LIMIT_PASSWORD_RESET_IP",
                "10/3600",
                "RATE_LIMIT_PASSWORD_RESET_ACCOUNT",
                "3/3600",
            )?,
            register: limits(
                get,
                "RATE_LIMIT_REGISTER_IP",
                "10/3600",
                "RATE_LIMIT_REGISTER_ACCOUNT",
                "5/3600",
            )?,
            recharge: limits(
                get,
                "RATE_LIMIT_RECHARGE_IP",
                "60/3600",
                "RATE_LIMIT_RECHARGE_ACCOUNT",
                "20/3600",
            )?,
            key_prefix: get("RATE_LIMIT_KEY_PREFIX").unwrap_or_else(|| "kw".into()),
        })
    }
}

fn limits(
    get: &impl Fn(&str) -> Option<String>,
    ip_var: &'static str,
    ip_default: &str,
    account_var: &'static str,
    account_default: &str,
) -> Result<ActionLimits, ConfigError> {
    Ok(ActionLimits {
        ip: parse(get, ip_var, ip_default)?,
        account: parse(get, account_var, account_default)?,
    })
}
