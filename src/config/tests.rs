//! Tests of the parent module.

use super::*;
use std::collections::HashMap;

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(|key| map.get(key).cloned())
}

#[test]
fn defaults_give_the_embedded_mode() {
    let config = config(&[]).unwrap_or_else(|e| panic!("{e}"));
    assert!(config.database_url.starts_with("sqlite://"));
    assert!(config.redis_url.is_none() && config.smtp_url.is_none());
    assert_eq!(config.bind_addr.port(), 8000);
    assert!(config.uses_dev_secret());
}

#[test]
fn a_bad_value_names_the_variable() {
    let err = config(&[("BIND_ADDR", "not an address")]).err();
    assert_eq!(err.map(|e| e.var), Some("BIND_ADDR"));
}

#[test]
fn production_refuses_to_start_without_its_secrets() {
    let err = config(&[("APP_ENV", "production")]).err();
    assert_eq!(err.map(|e| e.var), Some("JWT_SECRET"));
    let secret = "a-production-secret-of-enough-length-123";
    let err = config(&[("APP_ENV", "production"), ("JWT_SECRET", secret)]).err();
    assert_eq!(err.map(|e| e.var), Some("PAYMENT_WEBHOOK_SECRET"));
}

#[test]
fn production_refuses_open_metrics_on_the_public_listener() {
    let secret = "a-production-secret-of-enough-length-123";
    let base = [
        ("APP_ENV", "production"),
        ("JWT_SECRET", secret),
        ("PAYMENT_WEBHOOK_SECRET", "a-webhook-secret"),
        ("PAYMENT_PROVIDER", "razorpay"),
        ("RAZORPAY_KEY_ID", "rzp_live_id"),
        ("RAZORPAY_KEY_SECRET", "a-key-secret"),
        ("RAZORPAY_WEBHOOK_SECRET", "a-razorpay-webhook-secret"),
    ];
    let err = config(&base).err();
    assert_eq!(err.map(|e| e.var), Some("METRICS_TOKEN"));
    let with_token = config(&[base.as_slice(), &[("METRICS_TOKEN", "scrape-me")]].concat());
    assert!(with_token.is_ok());
    let separate = config(&[base.as_slice(), &[("METRICS_BIND_ADDR", "127.0.0.1:9100")]].concat())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(separate.metrics_bind_addr.map(|a| a.port()), Some(9100));
    let bad = config(&[base.as_slice(), &[("METRICS_BIND_ADDR", "nine-one")]].concat()).err();
    assert_eq!(bad.map(|e| e.var), Some("METRICS_BIND_ADDR"));
}

fn production(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut all = vec![
        ("APP_ENV", "production"),
        ("JWT_SECRET", "a-production-secret-of-enough-length-123"),
        ("PAYMENT_WEBHOOK_SECRET", "a-webhook-secret"),
        ("METRICS_TOKEN", "scrape-me"),
        ("PAYMENT_PROVIDER", "razorpay"),
        ("RAZORPAY_KEY_ID", "rzp_live_id"),
        ("RAZORPAY_KEY_SECRET", "a-key-secret"),
        ("RAZORPAY_WEBHOOK_SECRET", "a-razorpay-webhook-secret"),
    ];
    all.extend_from_slice(vars);
    config(&all)
}

#[test]
fn production_refuses_the_sandbox_and_a_provider_without_its_keys() {
    let sandbox = production(&[("PAYMENT_PROVIDER", "sandbox")]).err();
    assert_eq!(sandbox.map(|e| e.var), Some("PAYMENT_PROVIDER"));
    let stripe = production(&[("PAYMENT_PROVIDER", "stripe")]).err();
    assert_eq!(stripe.map(|e| e.var), Some("STRIPE_SECRET_KEY"));
    let stripe = production(&[
        ("PAYMENT_PROVIDER", "stripe"),
        ("STRIPE_SECRET_KEY", "sk_live_x"),
    ])
    .err();
    assert_eq!(stripe.map(|e| e.var), Some("STRIPE_WEBHOOK_SECRET"));
    let payouts = production(&[("PAYOUT_PROVIDER", "razorpayx")]).err();
    assert_eq!(payouts.map(|e| e.var), Some("RAZORPAYX_ACCOUNT_NUMBER"));
    let dev = config(&[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        dev.payments.provider,
        payments::PaymentProviderKind::Sandbox
    );
}

#[test]
fn provider_secrets_never_reach_debug_output() {
    let config = production(&[("RAZORPAY_KEY_SECRET", "hunter2-key-secret")])
        .unwrap_or_else(|e| panic!("{e}"));
    let shown = format!("{config:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn graphiql_and_introspection_are_on_in_development_and_off_in_production() {
    let dev = config(&[]).unwrap_or_else(|e| panic!("{e}"));
    let prod = production(&[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((dev.graphiql, dev.graphql_introspection), (true, true));
    assert_eq!((prod.graphiql, prod.graphql_introspection), (false, false));
}

#[test]
fn production_turns_graphiql_and_introspection_on_only_when_asked() {
    let prod = production(&[("GRAPHIQL", "true"), ("GRAPHQL_INTROSPECTION", "true")])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((prod.graphiql, prod.graphql_introspection), (true, true));
    let dev = config(&[("GRAPHIQL", "false")]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((dev.graphiql, dev.graphql_introspection), (false, true));
}

#[test]
fn password_hash_concurrency_defaults_to_the_cpus_and_refuses_zero() {
    let defaults = config(&[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        defaults.password_hash_concurrency,
        default_hash_concurrency()
    );
    let err = config(&[("PASSWORD_HASH_CONCURRENCY", "0")]).err();
    assert_eq!(err.map(|e| e.var), Some("PASSWORD_HASH_CONCURRENCY"));
}

#[test]
fn secrets_are_redacted_from_debug_output() {
    let config = config(&[
        ("DATABASE_URL", "postgres://kw:hunter2@db/kw"),
        ("SMTP_URL", "smtp://mailer:smtp-pass@mail.example:587"),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let shown = format!("{config:?}");
    assert!(!shown.contains("hunter2"));
    assert!(!shown.contains("smtp-pass"));
    assert!(!shown.contains(config.jwt_secret.expose_secret()));
}
