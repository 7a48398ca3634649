//! Payout jobs: sending an approved payout to the payout provider, and acting on a stored
//! payout webhook event.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    AppState,
    jobs::job::{Job, Registry},
};

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

pub fn register(registry: &mut Registry<AppState>) {
    registry
        .handle(|state, job: SubmitPayout| async move {
            super::provider::submit_job(&state, job.payout_id).await
        })
        .handle(|state, job: ProcessPayoutEvent| async move {
            super::provider::process_payout_event(&state, job.event_id).await
        });
}
