//! Rate limits on the endpoints worth brute-forcing or spamming: `login`, `verifyOtp`,
//! `requestPasswordReset`, `register` and `rechargeWallet`, each counted per client IP and per
//! account (the email, the OTP challenge or the signed-in user) in fixed windows. Counters live
//! in Redis when `REDIS_URL` is set (so every instance shares them), in memory otherwise. A
//! refused attempt is `RATE_LIMITED` with `extensions.retryAfter` (seconds).
//!
//! If Redis cannot be reached the limiter lets the request through (and logs it): an outage of
//! the counters must not lock every user out.

mod memory;
mod redis;

use std::{net::IpAddr, sync::Arc};

use async_graphql::Context;
use sha2::{Digest as _, Sha256};

pub use crate::config::rate_limits::{ActionLimits, RateLimits, Rule};
use crate::{
    config::Config,
    error::{AppError, AppResult},
};

/// The client's IP address, added to each GraphQL request's data by the HTTP layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// What is being limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Login,
    VerifyOtp,
    PasswordReset,
    Register,
    Recharge,
}

impl Action {
    fn key(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::VerifyOtp => "otp",
            Self::PasswordReset => "password_reset",
            Self::Register => "register",
            Self::Recharge => "recharge",
        }
    }
}

/// The two counters of `action`.
fn limits_of(limits: &RateLimits, action: Action) -> ActionLimits {
    match action {
        Action::Login => limits.login,
        Action::VerifyOtp => limits.otp,
        Action::PasswordReset => limits.password_reset,
        Action::Register => limits.register,
        Action::Recharge => limits.recharge,
    }
}

/// Counts attempts in fixed windows.
#[derive(Clone)]
pub struct RateLimiter {
    limits: Arc<RateLimits>,
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Memory(Arc<memory::MemoryCounters>),
    Redis(Arc<redis::RedisCounters>),
}

impl RateLimiter {
    /// Redis-backed when `REDIS_URL` is set, in memory otherwise.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let backend = match &config.redis_url {
            Some(url) => Backend::Redis(Arc::new(redis::RedisCounters::new(url)?)),
            None => Backend::Memory(Arc::new(memory::MemoryCounters::default())),
        };
        Ok(Self {
            limits: Arc::new(config.rate_limits.clone()),
            backend,
        })
    }

    /// An in-memory limiter (a fallback, and for tools).
    pub fn in_memory(limits: RateLimits) -> Self {
        Self {
            limits: Arc::new(limits),
            backend: Backend::Memory(Arc::new(memory::MemoryCounters::default())),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Memory(_) => "memory",
            Backend::Redis(_) => "redis",
        }
    }

    /// Counts one attempt of `action` from `ip` on `account`; RATE_LIMITED once either counter
    /// is past its limit. An unknown IP (a request not over HTTP) is counted per account only.
    pub async fn check(
        &self,
        action: Action,
        ip: Option<IpAddr>,
        account: Option<&str>,
    ) -> AppResult<()> {
        let limits = limits_of(&self.limits, action);
        let mut retry_after = None;
        if let Some(ip) = ip {
            let key = format!("ip:{ip}");
            retry_after = retry_after.max(self.hit(action, &key, limits.ip).await);
        }
        if let Some(account) = account {
            // Hashed: keys in Redis should not be a list of email addresses.
            let digest = Sha256::digest(account.trim().to_lowercase().as_bytes());
            let key = format!("acct:{}", hex::encode(&digest[..12]));
            retry_after = retry_after.max(self.hit(action, &key, limits.account).await);
        }
        match retry_after {
            None => Ok(()),
            Some(secs) => Err(AppError::RateLimited {
                message: format!("too many attempts; try again in {secs} seconds"),
                retry_after_secs: secs.max(1),
            }),
        }
    }

    /// Counts a hit; `Some(seconds until the window resets)` when over the limit.
    async fn hit(&self, action: Action, key: &str, rule: Rule) -> Option<u64> {
        let key = format!("{}:rl:{}:{key}", self.limits.key_prefix, action.key());
        let (count, resets_in) = match &self.backend {
            Backend::Memory(counters) => counters.hit(&key, rule.window_secs),
            Backend::Redis(counters) => match counters.hit(&key, rule.window_secs).await {
                Ok(counted) => counted,
                Err(err) => {
                    tracing::warn!(error = %err, "rate-limit counter unavailable; letting the request through");
                    return None;
                }
            },
        };
        (count > u64::from(rule.limit)).then_some(resets_in)
    }
}

/// Checks `action` for the current GraphQL request: its client IP and `account`.
pub async fn check(ctx: &Context<'_>, action: Action, account: Option<&str>) -> AppResult<()> {
    let Some(limiter) = ctx.data_opt::<RateLimiter>() else {
        return Ok(());
    };
    let ip = ctx.data_opt::<ClientIp>().map(|ip| ip.0);
    limiter.check(action, ip, account).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_refuse_nonsense() {
        assert_eq!(
            "10/900".parse::<Rule>().ok(),
            Some(Rule {
                limit: 10,
                window_secs: 900
            })
        );
        assert!("10".parse::<Rule>().is_err());
        assert!("10/0".parse::<Rule>().is_err());
        assert!("x/60".parse::<Rule>().is_err());
    }

    #[tokio::test]
    async fn the_memory_limiter_refuses_past_the_limit_per_account_and_per_ip() {
        let mut limits = RateLimits::from_lookup(&|_: &str| None).unwrap_or_else(|e| panic!("{e}"));
        limits.login = ActionLimits {
            ip: Rule {
                limit: 3,
                window_secs: 60,
            },
            account: Rule {
                limit: 2,
                window_secs: 60,
            },
        };
        let limiter = RateLimiter::in_memory(limits);
        let ip: IpAddr = [10, 0, 0, 1].into();
        assert!(
            limiter
                .check(Action::Login, Some(ip), Some("a@x.in"))
                .await
                .is_ok()
        );
        assert!(
            limiter
                .check(Action::Login, Some(ip), Some("A@x.in"))
                .await
                .is_ok()
        );
        let third = limiter.check(Action::Login, Some(ip), Some("a@x.in")).await;
        assert!(
            matches!(third, Err(AppError::RateLimited { retry_after_secs, .. }) if retry_after_secs <= 60)
        );
        // Another account from the same IP: the IP's fourth attempt is over its limit of 3.
        assert!(
            limiter
                .check(Action::Login, Some(ip), Some("b@x.in"))
                .await
                .is_err()
        );
        // Other actions have their own counters.
        assert!(
            limiter
                .check(Action::Register, Some(ip), Some("a@x.in"))
                .await
                .is_ok()
        );
    }
}
