//! Configuration, read once from the environment (and a `.env` file if present). Every variable
//! is documented in `.env.example`; the defaults give the embedded mode (SQLite file, in-process
//! pub/sub, mail written to files). A bad value stops start-up with a message naming the variable.

pub mod payments;
pub mod rate_limits;

use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

use secrecy::{ExposeSecret as _, SecretString};

/// Development-only JWT secret, refused when `APP_ENV=production`.
const DEV_JWT_SECRET: &str = "kabaadwala-dev-secret-change-me-0123456789";

/// Where the server runs: `development` is lenient, `production` refuses unsafe defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Clone)]
pub struct Config {
    /// `APP_ENV`: `development` (default) or `production`.
    pub app_env: AppEnv,
    /// `BIND_ADDR`: where the HTTP server listens (default `0.0.0.0:8000`).
    pub bind_addr: SocketAddr,
    /// `PUBLIC_URL`: the base URL put into emailed links (default `http://localhost:8000`).
    pub public_url: String,
    /// `DATABASE_URL`: `sqlite://…` or `postgres://…` (default a SQLite file under `./data`).
    pub database_url: String,
    /// `DATABASE_MAX_CONNECTIONS`: pool size on PostgreSQL (SQLite always uses one writer).
    pub database_max_connections: u32,
    /// `REDIS_URL`: when set, pub/sub goes through Redis; otherwise it stays in-process.
    pub redis_url: Option<String>,
    /// `SMTP_URL`: when set (`smtp://user:pass@host:port`), mail goes over SMTP. It holds the
    /// SMTP password, so it is a secret: it prints as `[REDACTED]`.
    pub smtp_url: Option<SecretString>,
    /// `MAIL_FROM`: the sender of every email.
    pub mail_from: String,
    /// `MAIL_DIR`: where `.eml` files are written when `SMTP_URL` is not set.
    pub mail_dir: PathBuf,
    /// `MEDIA_DIR`: where uploaded files are stored.
    pub media_dir: PathBuf,
    /// `JWT_SECRET`: HMAC key for access tokens (and for hashing OTP codes). Never logged: it
    /// prints as `[REDACTED]`.
    pub jwt_secret: SecretString,
    /// `JWT_ISSUER` / `JWT_AUDIENCE`: the `iss` and `aud` claims, checked on every token.
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// `PASSWORD_HASH_CONCURRENCY`: how many argon2 hashes (19 MiB each) may run at once in
    /// the process; more wait their turn (default the number of CPUs, at least 1).
    pub password_hash_concurrency: usize,
    /// `ACCESS_TOKEN_TTL_SECS`: access-token lifetime (default 15 minutes).
    pub access_token_ttl: Duration,
    /// `REFRESH_TOKEN_TTL_SECS`: refresh-token lifetime (default 30 days).
    pub refresh_token_ttl: Duration,
    /// `PAYMENT_WEBHOOK_SECRET`: key of the payment webhooks' HMAC-SHA256 signatures. Never
    /// logged: it prints as `[REDACTED]`.
    pub payment_webhook_secret: SecretString,
    /// `RUN_WORKER`: run the job worker inside `serve` (default true).
    pub run_worker: bool,
    /// `WORKER_POLL_MS`: how often an idle worker looks for due jobs (default 1000).
    pub worker_poll: Duration,
    /// `WS_INIT_TIMEOUT_MS`: how long a WebSocket may stay open without `connection_init`
    /// before it is closed with 4408 (default 10000).
    pub ws_init_timeout: Duration,
    /// `WS_MAX_MESSAGE_BYTES`: the largest message a WebSocket client may send; a larger one
    /// closes the socket with 1009 (default 65536).
    pub ws_max_message_bytes: usize,
    /// `WS_MAX_SUBSCRIPTIONS`: subscriptions open at once on one connection; one more gets an
    /// `error` message with RATE_LIMITED and the socket stays open (default 100).
    pub ws_max_subscriptions: usize,
    /// `WS_MAX_CONNECTIONS_PER_USER`: open WebSocket connections of one signed-in user on this
    /// instance; one more is closed with 4429 at `connection_init` (default 20).
    pub ws_max_connections_per_user: usize,
    /// `WS_MAX_CONNECTIONS`: open WebSocket connections on this instance; one more upgrade is
    /// refused with HTTP 429 (default 10000).
    pub ws_max_connections: usize,
    /// `WS_RESUME_MAX_EVENTS`: the most stored events a subscription resumed with `after`
    /// replays; a client further behind gets an error and reloads through queries (default 1000).
    pub ws_resume_max_events: usize,
    /// `GRAPHQL_MAX_DEPTH`: the deepest field nesting a document may have (default 10;
    /// introspection fields are not counted, so GraphiQL's schema query still works).
    pub graphql_max_depth: usize,
    /// `GRAPHQL_MAX_COMPLEXITY`: the complexity budget of one operation (default 2000; a field
    /// costs 1, a connection `first` times its node's cost).
    pub graphql_max_complexity: usize,
    /// `GRAPHQL_MAX_ALIASES`: the most aliases a document may use (default 15).
    pub graphql_max_aliases: usize,
    /// `GRAPHQL_MAX_DIRECTIVES`: the most directives a document may use (default 50).
    pub graphql_max_directives: usize,
    /// `GRAPHQL_MAX_TOKENS`: the most lexical tokens a document may have (default 3000).
    pub graphql_max_tokens: usize,
    /// `GRAPHQL_INTROSPECTION`: answer `__schema`/`__type` queries (default true in
    /// development, false with `APP_ENV=production`).
    pub graphql_introspection: bool,
    /// `GRAPHIQL`: serve the GraphiQL playground at `/` (default true in development, false
    /// with `APP_ENV=production`).
    pub graphiql: bool,
    /// `TRUST_PROXY`: take the client IP from `X-Forwarded-For` (only behind a proxy that sets
    /// it; default false: the socket's peer address).
    pub trust_proxy: bool,
    /// `RATE_LIMIT_<ACTION>_<IP|ACCOUNT>` (`<limit>/<window seconds>`) for LOGIN, OTP,
    /// PASSWORD_RESET, REGISTER and RECHARGE; and `RATE_LIMIT_KEY_PREFIX` for Redis keys.
    pub rate_limits: rate_limits::RateLimits,
    /// `METRICS_TOKEN`: when set, `GET /metrics` needs `Authorization: Bearer <token>`.
    /// Never logged.
    pub metrics_token: Option<String>,
    /// `METRICS_BIND_ADDR`: when set, `/metrics` is served only by a second listener on this
    /// address (one the scraper reaches and the public does not), and the main listener answers
    /// 404 for it. With `APP_ENV=production` this or `METRICS_TOKEN` is required.
    pub metrics_bind_addr: Option<SocketAddr>,
    /// `SCHEDULE_CLEANUP`: cron (with seconds, UTC) of `cleanup_expired_sessions`
    /// (default `0 30 2 * * *`); `off` disables it.
    pub schedule_cleanup: String,
    /// `SCHEDULE_DAILY_REPORT`: cron of `generate_daily_report` (default `0 5 0 * * *`).
    pub schedule_daily_report: String,
    /// `SCHEDULE_AUTO_RELEASE`: cron of `auto_release_delivered` (default `0 */15 * * * *`).
    pub schedule_auto_release: String,
    /// `RETENTION_DAYS`: how long finished jobs, revoked refresh tokens, used tokens and
    /// schedule runs are kept before the cleanup deletes them (default 7).
    pub retention_days: i64,
    /// `MAX_BODY_BYTES`: the largest request body accepted (default 10 MiB).
    pub max_body_bytes: usize,
    /// `CATALOG_COUNT_TTL_MS`: how long the public catalog's `totalCount` per filter may be
    /// reused (default 2000; 0 = always count).
    pub catalog_count_ttl: Duration,
    /// `CATALOG_PAGE_TTL_MS`: how long a public `products` page may be served from memory
    /// (default 1000; 0 = always query).
    pub catalog_page_ttl: Duration,
    /// `MAX_UPLOAD_BYTES`: the largest uploaded file (KYC document, image) accepted (default 5 MiB).
    pub max_upload_bytes: u64,
    /// `LOG_FORMAT`: `text` (default) or `json`.
    pub log_json: bool,
    /// `ADMIN_SESSION_IDLE_MINUTES`: an operators' console session unused this long is over
    /// (default 30).
    pub admin_session_idle: Duration,
    /// `ADMIN_SESSION_MAX_HOURS`: a console session ends this long after sign-in, however
    /// active (default 12).
    pub admin_session_max: Duration,
    /// Payment and payout providers (`PAYMENT_PROVIDER`, `RAZORPAY_*`, `STRIPE_*`,
    /// `PAYOUT_PROVIDER`, `RAZORPAYX_ACCOUNT_NUMBER`, `RECONCILE_AFTER_MINUTES`, …).
    pub payments: payments::PaymentsConfig,
    /// Doorstep pickups: `PICKUP_OFFER_MINUTES`, `PICKUP_OFFER_VENDORS`,
    /// `PICKUP_LOCATION_THROTTLE_MS`.
    pub pickups: PickupConfig,
}

/// How slot-less pickups are offered, and how often a collector's location is passed on.
#[derive(Debug, Clone)]
pub struct PickupConfig {
    /// `PICKUP_OFFER_MINUTES`: how long an offer round stays open before the next nearest
    /// vendors get it, or it expires (default 15).
    pub offer_minutes: i64,
    /// `PICKUP_OFFER_VENDORS`: how many of the nearest covering vendors one round reaches
    /// (default 10).
    pub offer_vendors: usize,
    /// `PICKUP_LOCATION_THROTTLE_MS`: the shortest interval between two collector locations
    /// that are kept and published (default 5000).
    pub location_throttle: Duration,
}

impl fmt::Debug for Config {
    // Hand-written so that secrets never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("app_env", &self.app_env)
            .field("bind_addr", &self.bind_addr)
            .field("database", &redact_url(&self.database_url))
            .field("redis", &self.redis_url.as_deref().map(redact_url))
            .field(
                "smtp",
                &self
                    .smtp_url
                    .as_ref()
                    .map(|url| redact_url(url.expose_secret())),
            )
            .field("mail_dir", &self.mail_dir)
            .field("media_dir", &self.media_dir)
            .field("run_worker", &self.run_worker)
            .field("payment_provider", &self.payments.provider)
            .field("payout_provider", &self.payments.payout_provider)
            .finish_non_exhaustive()
    }
}

/// A configuration variable that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("configuration variable {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

impl Config {
    /// Reads the process environment (after loading `.env`, if there is one).
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is the normal case; a malformed one is worth a warning, not a refusal.
        if let Err(err) = dotenvy::dotenv()
            && !err.not_found()
        {
            eprintln!("warning: could not read .env: {err}");
        }
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Builds the configuration from any key → value lookup (the environment, or a test's map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| get(key).filter(|v| !v.trim().is_empty());
        let app_env = match get("APP_ENV").as_deref() {
            None | Some("development") | Some("dev") | Some("test") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => {
                return Err(ConfigError {
                    var: "APP_ENV",
                    message: format!("expected development or production, got {other:?}"),
                });
            }
        };
        let jwt_secret = match get("JWT_SECRET") {
            Some(secret) if secret.len() < 32 => {
                return Err(ConfigError {
                    var: "JWT_SECRET",
                    message: "must be at least 32 characters".into(),
                });
            }
            Some(secret) => SecretString::from(secret),
            None if app_env == AppEnv::Production => {
                return Err(ConfigError {
                    var: "JWT_SECRET",
                    message: "is required when APP_ENV=production".into(),
                });
            }
            None => SecretString::from(DEV_JWT_SECRET),
        };
        let metrics_token = get("METRICS_TOKEN");
        let metrics_bind_addr = match get("METRICS_BIND_ADDR") {
            Some(_) => Some(parse(&get, "METRICS_BIND_ADDR", "")?),
            None => None,
        };
        // What helps a developer explore the API (the playground, introspection) is off in
        // production unless asked for: a public schema map is an attacker's map too.
        let dev_default = if app_env == AppEnv::Production {
            "false"
        } else {
            "true"
        };
        let config = Self {
            app_env,
            bind_addr: parse(&get, "BIND_ADDR", "0.0.0.0:8000")?,
            public_url: get("PUBLIC_URL")
                .unwrap_or_else(|| "http://localhost:8000".into())
                .trim_end_matches('/')
                .to_owned(),
            database_url: get("DATABASE_URL")
                .unwrap_or_else(|| "sqlite://data/kabaadwala.db?mode=rwc".into()),
            database_max_connections: parse(&get, "DATABASE_MAX_CONNECTIONS", "20")?,
            redis_url: get("REDIS_URL"),
            smtp_url: get("SMTP_URL").map(SecretString::from),
            mail_from: get("MAIL_FROM")
                .unwrap_or_else(|| "Kabaadwala <no-reply@kabaadwala.local>".into()),
            mail_dir: get("MAIL_DIR").unwrap_or_else(|| "data/mail".into()).into(),
            media_dir: get("MEDIA_DIR")
                .unwrap_or_else(|| "data/media".into())
                .into(),
            jwt_secret,
            jwt_issuer: get("JWT_ISSUER").unwrap_or_else(|| "kabaadwala".into()),
            jwt_audience: get("JWT_AUDIENCE").unwrap_or_else(|| "kabaadwala-api".into()),
            password_hash_concurrency: match parse(
                &get,
                "PASSWORD_HASH_CONCURRENCY",
                &default_hash_concurrency().to_string(),
            )? {
                0 => {
                    return Err(ConfigError {
                        var: "PASSWORD_HASH_CONCURRENCY",
                        message: "must be at least 1".into(),
                    });
                }
                n => n,
            },
            access_token_ttl: Duration::from_secs(parse(&get, "ACCESS_TOKEN_TTL_SECS", "900")?),
            refresh_token_ttl: Duration::from_secs(parse(
                &get,
                "REFRESH_TOKEN_TTL_SECS",
                "2592000",
            )?),
            payment_webhook_secret: match get("PAYMENT_WEBHOOK_SECRET") {
                Some(secret) => SecretString::from(secret),
                None if app_env == AppEnv::Production => {
                    return Err(ConfigError {
                        var: "PAYMENT_WEBHOOK_SECRET",
                        message: "is required when APP_ENV=production".into(),
                    });
                }
                None => SecretString::from("kabaadwala-dev-webhook-secret"),
            },
            run_worker: parse(&get, "RUN_WORKER", "true")?,
            worker_poll: Duration::from_millis(parse(&get, "WORKER_POLL_MS", "1000")?),
            ws_init_timeout: Duration::from_millis(parse(&get, "WS_INIT_TIMEOUT_MS", "10000")?),
            ws_max_message_bytes: parse(&get, "WS_MAX_MESSAGE_BYTES", "65536")?,
            ws_max_subscriptions: parse(&get, "WS_MAX_SUBSCRIPTIONS", "100")?,
            ws_max_connections_per_user: parse(&get, "WS_MAX_CONNECTIONS_PER_USER", "20")?,
            ws_max_connections: parse(&get, "WS_MAX_CONNECTIONS", "10000")?,
            ws_resume_max_events: parse(&get, "WS_RESUME_MAX_EVENTS", "1000")?,
            graphql_max_depth: parse(&get, "GRAPHQL_MAX_DEPTH", "10")?,
            graphql_max_complexity: parse(&get, "GRAPHQL_MAX_COMPLEXITY", "2000")?,
            graphql_max_aliases: parse(&get, "GRAPHQL_MAX_ALIASES", "15")?,
            graphql_max_directives: parse(&get, "GRAPHQL_MAX_DIRECTIVES", "50")?,
            graphql_max_tokens: parse(&get, "GRAPHQL_MAX_TOKENS", "3000")?,
            graphql_introspection: parse(&get, "GRAPHQL_INTROSPECTION", dev_default)?,
            graphiql: parse(&get, "GRAPHIQL", dev_default)?,
            trust_proxy: parse(&get, "TRUST_PROXY", "false")?,
            rate_limits: rate_limits::RateLimits::from_lookup(&get)?,
            metrics_token,
            metrics_bind_addr,
            schedule_cleanup: get("SCHEDULE_CLEANUP").unwrap_or_else(|| "0 30 2 * * *".into()),
            schedule_daily_report: get("SCHEDULE_DAILY_REPORT")
                .unwrap_or_else(|| "0 5 0 * * *".into()),
            schedule_auto_release: get("SCHEDULE_AUTO_RELEASE")
                .unwrap_or_else(|| "0 */15 * * * *".into()),
            retention_days: parse(&get, "RETENTION_DAYS", "7")?,
            max_body_bytes: parse(&get, "MAX_BODY_BYTES", "10485760")?,
            max_upload_bytes: parse(&get, "MAX_UPLOAD_BYTES", "5242880")?,
            catalog_count_ttl: Duration::from_millis(parse(&get, "CATALOG_COUNT_TTL_MS", "2000")?),
            catalog_page_ttl: Duration::from_millis(parse(&get, "CATALOG_PAGE_TTL_MS", "1000")?),
            log_json: match get("LOG_FORMAT").as_deref() {
                None | Some("text") => false,
                Some("json") => true,
                Some(other) => {
                    return Err(ConfigError {
                        var: "LOG_FORMAT",
                        message: format!("expected text or json, got {other:?}"),
                    });
                }
            },
            admin_session_idle: Duration::from_secs(
                60 * parse::<u64>(&get, "ADMIN_SESSION_IDLE_MINUTES", "30")?.max(1),
            ),
            admin_session_max: Duration::from_secs(
                3600 * parse::<u64>(&get, "ADMIN_SESSION_MAX_HOURS", "12")?.max(1),
            ),
            payments: payments::PaymentsConfig::from_lookup(&get, app_env)?,
            pickups: PickupConfig {
                offer_minutes: parse(&get, "PICKUP_OFFER_MINUTES", "15")?,
                offer_vendors: parse(&get, "PICKUP_OFFER_VENDORS", "10")?,
                location_throttle: Duration::from_millis(parse(
                    &get,
                    "PICKUP_LOCATION_THROTTLE_MS",
                    "5000",
                )?),
            },
        };
        // Metrics name every route and operation and show the load: not for the public.
        if config.app_env == AppEnv::Production
            && config.metrics_token.is_none()
            && config.metrics_bind_addr.is_none()
        {
            return Err(ConfigError {
                var: "METRICS_TOKEN",
                message: "is required when APP_ENV=production, unless METRICS_BIND_ADDR serves \
                          /metrics on a separate listener"
                    .into(),
            });
        }
        Ok(config)
    }

    /// True when the JWT secret is the built-in development one.
    pub fn uses_dev_secret(&self) -> bool {
        self.jwt_secret.expose_secret() == DEV_JWT_SECRET
    }
}

/// One password hash per CPU: hashing is CPU-bound, more would only queue inside the pool.
pub fn default_hash_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

pub(crate) fn parse<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: &str,
) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    let raw = get(var).unwrap_or_else(|| default.to_owned());
    raw.trim().parse().map_err(|err| ConfigError {
        var,
        message: format!("{err} (got {raw:?})"),
    })
}

/// `scheme://user:secret@host/db` → `scheme://***@host/db`, for logs.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***{}", &url[..scheme_end], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests;
