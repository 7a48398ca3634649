//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes). Hashing is CPU-bound,
//! so it runs on the blocking pool, never on a request's async thread.

use anyhow::Context as _;
use argon2::{
    Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _,
    password_hash::{SaltString, rand_core::OsRng},
};

use crate::error::{AppError, AppResult};

pub async fn hash(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))
    })
    .await
    .context("join the password hasher")
    .and_then(|r| r)
    .map_err(AppError::from)
}

/// Whether `password` matches `stored`. A malformed stored hash counts as "no match".
pub async fn verify(password: String, stored: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .context("join the password verifier")
    .map_err(AppError::from)
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
