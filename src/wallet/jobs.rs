//! Wallet jobs: asking the payment provider about a recharge. The kinds are here (the
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
