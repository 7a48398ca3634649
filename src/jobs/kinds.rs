//! Every job kind the application runs, registered once: each domain declares its jobs and
//! their handlers in its own `jobs.rs`; this is the one place that lists the domains (the
//! start-up's business, like the schema's assembly), so the queue below knows none of them.

use std::sync::OnceLock;

use super::job::Registry;
use crate::{AppState, auth, notifications, orders, payouts, pickups, reports, vendors, wallet};

/// The registry of every job kind and recurring job.
pub fn registry() -> &'static Registry<AppState> {
    static REGISTRY: OnceLock<Registry<AppState>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = Registry::default();
        auth::jobs::register(&mut registry);
        vendors::jobs::register(&mut registry);
        wallet::jobs::handlers::register(&mut registry);
        orders::jobs::handlers::register(&mut registry);
        payouts::jobs::handlers::register(&mut registry);
        notifications::jobs::register(&mut registry);
        pickups::jobs::handlers::register(&mut registry);
        reports::jobs::register(&mut registry);
        super::cleanup::register(&mut registry);
        registry
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_the_domains_enqueue_has_a_handler() {
        let registry = registry();
        for kind in [
            "send_verification_email",
            "send_otp_email",
            "send_password_reset_email",
            "process_wallet_recharge",
            "send_kyc_decision_email",
            "send_order_email",
            "release_held_amount",
            "auto_release_delivered",
            "cleanup_expired_sessions",
            "generate_daily_report",
            "send_notification",
            "process_payment_event",
            "reconcile_recharges",
            "submit_payout",
            "process_payout_event",
            "expire_pickup_offers",
        ] {
            assert!(registry.knows(kind), "{kind} has no handler");
        }
        let names: Vec<_> = registry.recurring().iter().map(|r| r.name).collect();
        assert_eq!(
            names,
            [
                "reconcile_recharges",
                "auto_release_delivered",
                "generate_daily_report",
                "cleanup_expired_sessions"
            ]
        );
    }
}
