//! Admin decisions on payouts, shared by the admin GraphQL fields and the operators' console.
//! Each writes its audit row in the transaction of the change.

use entity::payouts;
use sea_orm::TransactionTrait as _;
use serde_json::json;
use uuid::Uuid;

pub use super::service::status_name;
use super::{provider, service};
use crate::{
    AppState,
    audit::{self, Entry},
    auth::Viewer,
    error::{AppError, AppResult},
};

fn entry(
    actor: Viewer,
    action: &'static str,
    before: &payouts::Model,
    after: &payouts::Model,
) -> Entry {
    Entry::new(actor.user_id, action, "payout", after.id).change(
        json!({ "status": status_name(before.status) }),
        json!({
            "status": status_name(after.status),
            "reference": after.reference,
            "source": super::funds::home(after),
            "user": after.user_id,
        }),
    )
}

/// Admin: approves a REQUESTED payout.
pub async fn approve(state: &AppState, actor: Viewer, id: Uuid) -> AppResult<payouts::Model> {
    let txn = state.db.begin().await?;
    let before = service::find(&txn, id).await?;
    let payout = service::approve(&txn, id).await?;
    let automatic = provider::queue_send(state, &txn, &payout).await?;
    audit::record(&txn, entry(actor, "payout.approve", &before, &payout)).await?;
    txn.commit().await?;
    state.wake_worker();
    if automatic {
        return Ok(provider::send_now(state, payout).await);
    }
    Ok(payout)
}

/// Admin: rejects a REQUESTED or APPROVED payout, with a reason; the amount returns to its
/// source (the vendor's earnings or the user's wallet).
pub async fn reject(
    state: &AppState,
    actor: Viewer,
    id: Uuid,
    reason: &str,
) -> AppResult<payouts::Model> {
    let txn = state.db.begin().await?;
    let before = service::find(&txn, id).await?;
    let payout = service::reject(&txn, id, reason).await?;
    audit::record(
        &txn,
        entry(actor, "payout.reject", &before, &payout).reason(Some(reason)),
    )
    .await?;
    txn.commit().await?;
    state.wake_worker();
    Ok(payout)
}

/// Admin: records that an APPROVED payout was paid, with the bank or provider reference.
pub async fn mark_paid(
    state: &AppState,
    actor: Viewer,
    id: Uuid,
    reference: &str,
) -> AppResult<payouts::Model> {
    if state.providers.payouts().is_automatic() {
        return Err(AppError::InvalidTransition(
            "payouts go through the payout provider; its webhook marks them paid".into(),
        ));
    }
    let txn = state.db.begin().await?;
    let before = service::find(&txn, id).await?;
    let payout = service::mark_paid(&txn, id, reference).await?;
    audit::record(&txn, entry(actor, "payout.mark_paid", &before, &payout)).await?;
    txn.commit().await?;
    state.wake_worker();
    Ok(payout)
}
