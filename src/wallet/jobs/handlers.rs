//! What the wallet jobs do.

use super::ProcessWalletRecharge;
use crate::{AppState, jobs::job::Registry, wallet::recharge};

pub fn register(registry: &mut Registry<AppState>) {
    registry.handle(|state, job: ProcessWalletRecharge| async move {
        recharge::process(&state, job.recharge_id).await
    });
}
