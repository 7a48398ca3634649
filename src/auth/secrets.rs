//! Random secrets and how they are stored: opaque tokens are SHA-256 hashed (they carry 256 bits,
//! so a fast hash is enough); OTP codes carry only 20 bits, so they are hashed with a key
//! (HMAC-SHA256 with the server secret, bound to the challenge id) that a database dump lacks.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac as _};
use rand::Rng as _;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// A new opaque token: 32 random bytes, URL-safe base64.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How an opaque token is stored and looked up.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new 6-digit one-time code.
pub fn new_otp() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

pub fn hash_otp(secret: &str, challenge_id: Uuid, code: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail; fall back to plain SHA-256 anyway
    // rather than unwrap.
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(challenge_id.as_bytes());
            mac.update(code.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => hash_token(&format!("{challenge_id}:{code}")),
    }
}

/// Compares two hex digests without leaking where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    // The lengths are public (hex digests of one size); the contents are compared in
    // constant time.
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otp_codes_are_six_digits() {
        for _ in 0..100 {
            let code = new_otp();
            assert_eq!(code.len(), 6);
            assert!(code.chars().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn otp_hashes_depend_on_the_secret_and_the_challenge() {
        let id = Uuid::new_v4();
        let base = hash_otp("secret-a", id, "123456");
        assert!(constant_time_eq(&base, &hash_otp("secret-a", id, "123456")));
        assert!(!constant_time_eq(
            &base,
            &hash_otp("secret-b", id, "123456")
        ));
        assert!(!constant_time_eq(
            &base,
            &hash_otp("secret-a", Uuid::new_v4(), "123456")
        ));
    }
}
