//! What the payout jobs do.

use super::{ProcessPayoutEvent, SubmitPayout};
use crate::{AppState, jobs::job::Registry, payouts::provider};

pub fn register(registry: &mut Registry<AppState>) {
    registry
        .handle(|state, job: SubmitPayout| async move {
            provider::submit_job(&state, job.payout_id).await
        })
        .handle(|state, job: ProcessPayoutEvent| async move {
            provider::process_payout_event(&state, job.event_id).await
        });
}
