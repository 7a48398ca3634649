//! What the pickups' job does: ending an offer round (`expire_pickup_offers`, queued for the
//! moment the round runs out): the next nearest vendors get the pickup, or it EXPIRES.

use anyhow::Context as _;
use chrono::Utc;
use sea_orm::TransactionTrait as _;
use uuid::Uuid;

use super::ExpirePickupOffers;
use crate::{
    AppState,
    jobs::job::Registry,
    pickups::{
        events,
        service::{common, offers},
    },
};

pub fn register(registry: &mut Registry<AppState>) {
    registry.handle(|state, job: ExpirePickupOffers| async move {
        expire_offers(&state, job.pickup_id, job.round).await
    });
}

/// The offer rules from the configuration.
pub fn offer_rules(state: &AppState) -> offers::OfferRules {
    offers::OfferRules {
        minutes: state.config.pickups.offer_minutes,
        vendors: state.config.pickups.offer_vendors,
    }
}

/// Ends round `round` of `pickup_id` (nothing when it was taken or moved on meanwhile).
pub async fn expire_offers(state: &AppState, pickup_id: Uuid, round: i32) -> anyhow::Result<()> {
    let txn = state.db.begin().await.context("begin")?;
    let outcome = offers::end_offer_round(&txn, pickup_id, round, offer_rules(state), Utc::now())
        .await
        .map_err(|e| anyhow::Error::new(e).context("end an offer round"))?;
    txn.commit().await.context("commit the offer round")?;
    if outcome == offers::RoundOutcome::Expired
        && let Ok(pickup) = common::find(&state.db, pickup_id).await
    {
        events::status_changed(state, &pickup).await;
    }
    state.wake_worker();
    Ok(())
}
