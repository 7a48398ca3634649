//! HMAC-SHA256 signatures as the providers compute them, compared in constant time.

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// Hex HMAC-SHA256 of `message` under `key`.
pub fn hex_hmac(key: &[u8], message: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            hex::encode(mac.finalize().into_bytes())
        }
        // HMAC takes keys of any length; this cannot happen.
        Err(_) => String::new(),
    }
}

/// Whether `given` (hex) is the HMAC-SHA256 of `message` under `key`, compared in constant time.
pub fn verify_hex(key: &[u8], message: &[u8], given: &str) -> bool {
    let Ok(given) = hex::decode(given.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return false;
    };
    mac.update(message);
    mac.verify_slice(&given).is_ok()
}

/// The parts of a `Stripe-Signature` header: `t=<unix seconds>,v1=<hex>,v1=<hex>,v0=…`.
pub struct StripeHeader {
    pub timestamp: i64,
    pub v1: Vec<String>,
}

pub fn parse_stripe_header(header: &str) -> Option<StripeHeader> {
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse().ok(),
            Some(("v1", sig)) => v1.push(sig.to_owned()),
            _ => {}
        }
    }
    Some(StripeHeader {
        timestamp: timestamp?,
        v1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_message_and_key() {
        let sig = hex_hmac(b"key", b"order_1|pay_1");
        assert!(verify_hex(b"key", b"order_1|pay_1", &sig));
        assert!(!verify_hex(b"key", b"order_1|pay_2", &sig));
        assert!(!verify_hex(b"other", b"order_1|pay_1", &sig));
        assert!(!verify_hex(b"key", b"order_1|pay_1", "not hex"));
    }

    #[test]
    fn a_stripe_header_keeps_every_v1() {
        let parsed = parse_stripe_header("t=1700000000,v1=aa,v0=cc,v1=bb");
        assert!(parsed.is_some_and(|h| h.timestamp == 1_700_000_000 && h.v1 == ["aa", "bb"]));
        assert!(parse_stripe_header("v1=aa").is_none());
    }
}
