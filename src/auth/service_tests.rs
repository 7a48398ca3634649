//! Tests of the parent module.

use super::*;

#[test]
fn emails_are_normalized_and_checked() {
    assert_eq!(
        normalize_email("email", " Asha@Example.COM ").ok(),
        Some("asha@example.com".into())
    );
    for bad in [
        "",
        "asha",
        "asha@",
        "@example.com",
        "asha@example",
        "a b@example.com",
        "a@b@c.com",
    ] {
        assert!(normalize_email("email", bad).is_err(), "{bad}");
    }
}

#[test]
fn phones_keep_digits_and_a_leading_plus() {
    assert_eq!(
        normalize_phone("phone", "+91 98765-43210").ok(),
        Some("+919876543210".into())
    );
    assert!(normalize_phone("phone", "12345").is_err());
    assert!(normalize_phone("phone", "98765abc43210").is_err());
}
