//! Payout jobs: sending an approved payout to the payout provider, and acting on a stored
//! payout webhook event. The kinds are here (the services enqueue them); their handlers are in
//! [`handlers`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::jobs::job::Job;

pub mod handlers;

/// Sends an approved payout to the payout provider (RazorpayX).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmitPayout {
    pub payout_id: Uuid,
}

impl Job for SubmitPayout {
    const KIND: &'static str = "submit_payout";
}

/// Acts on a stored, verified payout-provider webhook event (`webhook_events.id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessPayoutEvent {
    pub event_id: Uuid,
}

impl Job for ProcessPayoutEvent {
    const KIND: &'static str = "process_payout_event";
}
