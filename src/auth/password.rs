//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes). Hashing is CPU-bound,
//! so it runs on the blocking pool, never on a request's async thread, and under one
//! process-wide limit (`PASSWORD_HASH_CONCURRENCY`, default the number of CPUs): a burst of
//! sign-ins queues for a permit instead of allocating 19 MiB per concurrent hash without bound.
//! The permit moves into the blocking task, so it is held until the hash is done even when the
//! request that asked for it has gone away.

use std::sync::{
    Arc, OnceLock,
    atomic::{AtomicUsize, Ordering},
};

use anyhow::Context as _;
use argon2::{
    Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

/// How many argon2 computations may run at once, and how many do.
pub struct HashLimiter {
    permits: Arc<Semaphore>,
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl HashLimiter {
    /// At most `concurrency` (at least 1) hashes or verifications at a time.
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            in_flight: Arc::default(),
            peak: Arc::default(),
        }
    }

    /// A new argon2id hash (PHC string) of `password`.
    pub async fn hash(&self, password: String) -> AppResult<String> {
        self.run("join the password hasher", move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("argon2: {e}"))
        })
        .await?
        .map_err(AppError::from)
    }

    /// Whether `password` matches `stored`. A malformed stored hash counts as "no match".
    pub async fn verify(&self, password: String, stored: String) -> AppResult<bool> {
        self.run("join the password verifier", move || {
            PasswordHash::new(&stored)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
    }

    /// Hashes or verifications running right now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// The most that have ever run at once.
    pub fn peak_in_flight(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    async fn run<T: Send + 'static>(
        &self,
        what: &'static str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .context("the password hasher's semaphore is closed")?;
        let in_flight = self.in_flight.clone();
        let peak = self.peak.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let running = InFlight::enter(in_flight);
            peak.fetch_max(running.now, Ordering::SeqCst);
            work()
        })
        .await
        .context(what)
        .map_err(AppError::from)
    }
}

/// Counts one running computation until dropped (also if it panics).
struct InFlight {
    counter: Arc<AtomicUsize>,
    now: usize,
}

impl InFlight {
    fn enter(counter: Arc<AtomicUsize>) -> Self {
        let now = counter.fetch_add(1, Ordering::SeqCst) + 1;
        Self { counter, now }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::SeqCst);
    }
}

static LIMITER: OnceLock<HashLimiter> = OnceLock::new();

/// The number of CPUs, the default of `PASSWORD_HASH_CONCURRENCY`.
pub fn default_concurrency() -> usize {
    crate::config::default_hash_concurrency()
}

/// Sizes the process-wide limit. The first call wins (`AppState` makes it with
/// `PASSWORD_HASH_CONCURRENCY`); until then the limit is [`default_concurrency`].
pub fn limit_concurrency(concurrency: usize) {
    if LIMITER.set(HashLimiter::new(concurrency)).is_err() {
        tracing::debug!("the password hashing limit was already set");
    }
}

/// The process-wide limiter.
pub fn limiter() -> &'static HashLimiter {
    LIMITER.get_or_init(|| HashLimiter::new(default_concurrency()))
}

/// [`HashLimiter::hash`] under the process-wide limit.
pub async fn hash(password: String) -> AppResult<String> {
    limiter().hash(password).await
}

/// [`HashLimiter::verify`] under the process-wide limit.
pub async fn verify(password: String, stored: String) -> AppResult<bool> {
    limiter().verify(password, stored).await
}

/// A real argon2id hash of a random password, checked against when an email is unknown so that
/// a login attempt takes as long whether or not the account exists.
pub async fn dummy_hash() -> AppResult<String> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| hash(super::secrets::new_token()))
        .await
        .cloned()
}

/// Rules for a new password: 8–128 characters with at least one letter and one digit.
pub fn check_strength(field: &str, password: &str) -> AppResult<()> {
    let len = password.chars().count();
    if len < 8 {
        return Err(AppError::bad_input(
            field,
            "password must be at least 8 characters",
        ));
    }
    if len > 128 {
        return Err(AppError::bad_input(
            field,
            "password must be at most 128 characters",
        ));
    }
    let has_letter = password.chars().any(char::is_alphabetic);
    let has_digit = password.chars().any(|c| c.is_ascii_digit());
    if !has_letter || !has_digit {
        return Err(AppError::bad_input(
            field,
            "password must contain at least one letter and one digit",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hashed = hash("s3cret-pass".into()).await.unwrap_or_default();
        assert!(hashed.starts_with("$argon2id$"));
        assert!(
            verify("s3cret-pass".into(), hashed.clone())
                .await
                .unwrap_or(false)
        );
        assert!(!verify("wrong-pass1".into(), hashed).await.unwrap_or(true));
    }

    #[test]
    fn weak_passwords_are_refused_naming_the_field() {
        for weak in ["short1", "onlyletters", "1234567890"] {
            let err = check_strength("password", weak).err();
            assert!(
                matches!(err, Some(AppError::BadUserInput { field: Some(f), .. }) if f == "password")
            );
        }
        assert!(check_strength("password", "kabaad2026").is_ok());
    }
}
