//! Wallet jobs: asking the payment provider about a recharge, acting on a stored payment
//! webhook event, and the recurring reconciliation of pending recharges. The kinds are here (the
//! services enqueue them); their handlers are in [`handlers`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::jobs::job::Job;

pub mod handlers;

/// Has the provider decide a PENDING recharge (the sandbox answers at once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessWalletRecharge {
    pub recharge_id: Uuid,
}

impl Job for ProcessWalletRecharge {
    const KIND: &'static str = "process_wallet_recharge";
}

/// Acts on a stored, verified payment-provider webhook event (`webhook_events.id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessPaymentEvent {
    pub event_id: Uuid,
}

impl Job for ProcessPaymentEvent {
    const KIND: &'static str = "process_payment_event";
}

/// Asks the providers about recharges still pending at `slot`, and expires those a day old
/// (recurring).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReconcileRecharges {
    pub slot: chrono::DateTime<chrono::Utc>,
}

impl Job for ReconcileRecharges {
    const KIND: &'static str = "reconcile_recharges";
}
