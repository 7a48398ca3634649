//! Provider HTTP calls: one client per provider with a timeout on every call, retries with
//! exponential backoff (and jitter) on what may succeed next time (a timeout, a refused
//! connection, 429, 5xx), and an idempotency key on every call that creates something, so a
//! retry never creates it twice. Secrets go only into the Authorization header, which is never
//! logged; log lines name the provider, the path and the status.

use std::time::Duration;

use rand::Rng as _;
use reqwest::{Method, StatusCode, header};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;

use super::ProviderError;

/// Attempts per call (the first and two retries).
const ATTEMPTS: u32 = 3;
const BACKOFF_BASE: Duration = Duration::from_millis(200);

/// How a provider authenticates us.
#[derive(Clone)]
pub enum Auth {
    /// Razorpay and RazorpayX: HTTP basic auth with the key id and secret.
    Basic { user: String, secret: SecretString },
    /// Stripe: the secret key as a bearer token.
    Bearer(SecretString),
}

/// A request body.
pub enum Body {
    None,
    Json(Value),
    /// `application/x-www-form-urlencoded` (Stripe), already in order.
    Form(Vec<(String, String)>),
}

/// One provider's API.
#[derive(Clone)]
pub struct ProviderClient {
    pub provider: &'static str,
    base: String,
    auth: Auth,
    http: reqwest::Client,
}

impl ProviderClient {
    pub fn new(
        provider: &'static str,
        base: &str,
        auth: Auth,
        timeout: Duration,
    ) -> Result<Self, ProviderError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("kabaadwala/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Unavailable(format!("HTTP client: {e}")))?;
        Ok(Self {
            provider,
            base: base.trim_end_matches('/').to_owned(),
            auth,
            http,
        })
    }

    /// Sends `method path` with `body`, retrying what may pass next time. `idempotency` is the
    /// header and key that make a retried create safe (`Idempotency-Key`,
    /// `X-Payout-Idempotency`). The provider's JSON answer on 2xx.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        idempotency: Option<(&'static str, String)>,
        body: Body,
    ) -> Result<Value, ProviderError> {
        let url = format!("{}{path}", self.base);
        let mut last = ProviderError::Unavailable("no attempt made".into());
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let mut request = self.http.request(method.clone(), &url);
            request = match &self.auth {
                Auth::Basic { user, secret } => {
                    request.basic_auth(user, Some(secret.expose_secret()))
                }
                Auth::Bearer(secret) => request.bearer_auth(secret.expose_secret()),
            };
            if let Some((name, key)) = &idempotency {
                request = request.header(*name, key);
            }
            request = match &body {
                Body::None => request,
                Body::Json(json) => request.json(json),
                Body::Form(pairs) => request
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(
                        serde_urlencoded::to_string(pairs)
                            .map_err(|e| ProviderError::Malformed(format!("form body: {e}")))?,
                    ),
            };
            let response = match request.send().await {
                Ok(response) => response,
                Err(err) => {
                    // Timeouts and refused connections: the call may not have reached them.
                    tracing::warn!(provider = self.provider, %path, attempt, timeout = err.is_timeout(), "provider call failed");
                    last = ProviderError::Unavailable(format!(
                        "{} {path}: {}",
                        self.provider,
                        if err.is_timeout() {
                            "timed out"
                        } else {
                            "could not connect"
                        }
                    ));
                    continue;
                }
            };
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            if status.is_success() {
                return serde_json::from_str(&text).map_err(|e| {
                    ProviderError::Malformed(format!("{} {path}: {e}", self.provider))
                });
            }
            let message = error_message(&text);
            tracing::warn!(provider = self.provider, %path, attempt, status = status.as_u16(), %message, "provider answered with an error");
            if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                last = ProviderError::Unavailable(format!(
                    "{} {path}: HTTP {}",
                    self.provider,
                    status.as_u16()
                ));
                continue;
            }
            return Err(ProviderError::Refused {
                status: status.as_u16(),
                message,
            });
        }
        Err(last)
    }
}

/// 200 ms, 400 ms, … plus up to half as much again at random, so retries of many callers spread.
fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF_BASE.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
    let jitter = rand::rng().random_range(0..=u64::try_from(base.as_millis() / 2).unwrap_or(0));
    base + Duration::from_millis(jitter)
}

/// The provider's own description of an error (Razorpay `error.description`, Stripe
/// `error.message`), cut short; never the request.
fn error_message(body: &str) -> String {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let error = &json["error"];
    let text = error["description"]
        .as_str()
        .or_else(|| error["message"].as_str())
        .unwrap_or("no description");
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_bounded() {
        assert!(
            backoff(1) >= Duration::from_millis(200) && backoff(1) <= Duration::from_millis(300)
        );
        assert!(
            backoff(2) >= Duration::from_millis(400) && backoff(2) <= Duration::from_millis(600)
        );
    }

    #[test]
    fn error_messages_come_from_either_provider_shape() {
        assert_eq!(
            error_message(r#"{"error":{"code":"BAD_REQUEST_ERROR","description":"bad vpa"}}"#),
            "bad vpa"
        );
        assert_eq!(
            error_message(r#"{"error":{"message":"No such key"}}"#),
            "No such key"
        );
        assert_eq!(error_message("<html>"), "no description");
    }
}
