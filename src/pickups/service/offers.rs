//! Offers of slot-less pickups: the nearest covering vendors get one in rounds; the first to
//! take it (`acceptPickup`) wins exactly once (a conditional update on the status and the round),
//! its hold is placed and its chat room with the household opened; a round that runs out goes
//! to the next vendors, or the pickup EXPIRES.

use std::collections::HashSet;

use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use entity::{
    pickup_offers,
    pickup_status_history::PickupActor,
    pickups::{self, PickupStatus},
    vendors::{self, KycStatus},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, QuerySelect as _, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    common::{find, open_chat_room, record_history, reference, tell},
    slots,
};
use crate::{
    error::{AppError, AppResult},
    geo,
    jobs::queue,
    settings::service::{self as settings, Setting},
    wallet::escrow,
};

/// How offers go out: how long a round stays open and how many vendors it reaches.
#[derive(Debug, Clone, Copy)]
pub struct OfferRules {
    pub minutes: i64,
    pub vendors: usize,
}

/// The vendor's hold for a quote: the quote plus `margin_bps` of it (for heavier loads).
pub fn hold_amount(quote: i64, margin_bps: i64) -> AppResult<i64> {
    let margin = i128::from(quote) * i128::from(margin_bps) / 10_000;
    i64::try_from(i128::from(quote) + margin)
        .map_err(|_| AppError::bad_input("items", "the quote is too large"))
}

pub(crate) fn bps_i32(bps: i64) -> AppResult<i32> {
    i32::try_from(bps).map_err(|_| {
        AppError::internal(anyhow::anyhow!("commission rate {bps} bps is out of range"))
    })
}

/// The commission rate a vendor takes a pickup at (its own rate, else the platform's, as
/// `vendors::service::commission_bps` decides) and the hold margin, read with one query.
pub(crate) async fn commission_and_margin(
    conn: &impl ConnectionTrait,
    vendor: &vendors::Model,
) -> AppResult<(i32, i64)> {
    let (bps, margin) = match vendor.commission_bps {
        Some(bps) => (
            i64::from(bps),
            settings::get(conn, Setting::PickupHoldMarginBps).await?,
        ),
        None => {
            let [bps, margin] = settings::get_many(
                conn,
                [Setting::CommissionRateBps, Setting::PickupHoldMarginBps],
            )
            .await?;
            (bps, margin)
        }
    };
    Ok((bps_i32(bps)?, margin))
}

pub(crate) fn check_vendor_serves(
    vendor: &vendors::Model,
    household: Uuid,
    (lat, lon): (f64, f64),
    field: &str,
) -> AppResult<()> {
    if vendor.kyc_status != KycStatus::Approved {
        return Err(AppError::bad_input(
            field,
            "this collector is not taking pickups",
        ));
    }
    if vendor.user_id == household {
        return Err(AppError::bad_input(
            field,
            "you cannot sell to your own shop",
        ));
    }
    let distance = geo::distance_km(lat, lon, vendor.latitude, vendor.longitude);
    if distance > vendor.service_radius_km {
        return Err(AppError::bad_input(
            field,
            format!(
                "the address is {distance:.1} km from the collector, outside its {:.1} km service area",
                vendor.service_radius_km
            ),
        ));
    }
    Ok(())
}

/// Offers `pickup` to `vendors` in `round`, tells them, and queues the end of the round.
pub(crate) async fn offer(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    vendors: &[(vendors::Model, f64)],
    round: i32,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> AppResult<()> {
    pickup_offers::Entity::insert_many(vendors.iter().map(|(v, d)| pickup_offers::ActiveModel {
        id: Set(crate::db::new_id()),
        pickup_id: Set(pickup.id),
        vendor_id: Set(v.id),
        round: Set(round),
        distance_km: Set(*d),
        created_at: Set(now),
        expires_at: Set(expires),
    }))
    .exec_without_returning(conn)
    .await?;
    for (vendor, distance) in vendors {
        tell(
            conn,
            vendor.user_id,
            "PICKUP_OFFERED",
            &format!("Pickup offer {}", pickup.number),
            &format!(
                "A household {distance:.1} km away wants to sell scrap worth about {}. The first collector to accept gets it.",
                crate::money::format_inr(pickup.quote)
            ),
        )
        .await?;
    }
    queue::enqueue_at(
        conn,
        &crate::pickups::jobs::ExpirePickupOffers {
            pickup_id: pickup.id,
            round,
        },
        expires,
    )
    .await?;
    Ok(())
}

/// Whether `vendor_id` holds an offer of `pickup`'s current round.
pub async fn has_open_offer(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    vendor_id: Uuid,
) -> AppResult<bool> {
    if pickup.status != PickupStatus::Requested {
        return Ok(false);
    }
    Ok(pickup_offers::Entity::find()
        .filter(pickup_offers::Column::PickupId.eq(pickup.id))
        .filter(pickup_offers::Column::VendorId.eq(vendor_id))
        .filter(pickup_offers::Column::Round.eq(pickup.offer_round))
        .count(conn)
        .await?
        > 0)
}

/// Vendor: takes an offered pickup. Of racing vendors exactly one wins (a conditional update
/// on the status and the round); the others get CONFLICT. The quote plus the margin is held
/// from the winner's wallet in the same transaction (INSUFFICIENT_FUNDS, and it stays offered).
pub async fn accept_pickup(
    conn: &impl ConnectionTrait,
    vendor: &vendors::Model,
    pickup_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<pickups::Model> {
    let pickup = find(conn, pickup_id).await?;
    if pickup.status != PickupStatus::Requested {
        return Err(AppError::Conflict(
            "this pickup was already taken or closed".into(),
        ));
    }
    if !has_open_offer(conn, &pickup, vendor.id).await? {
        return Err(AppError::not_found("pickup"));
    }
    check_vendor_serves(
        vendor,
        pickup.household_id,
        (pickup.address_latitude, pickup.address_longitude),
        "pickupId",
    )?;
    let (bps, margin) = commission_and_margin(conn, vendor).await?;
    let now = now.trunc_subsecs(6);
    let taken = pickups::Entity::update_many()
        .col_expr(pickups::Column::Status, Expr::value(PickupStatus::Assigned))
        .col_expr(pickups::Column::VendorId, Expr::value(vendor.id))
        .col_expr(pickups::Column::CommissionBps, Expr::value(bps))
        .col_expr(pickups::Column::UpdatedAt, Expr::value(now))
        .filter(pickups::Column::Id.eq(pickup.id))
        .filter(pickups::Column::Status.eq(PickupStatus::Requested))
        .filter(pickups::Column::OfferRound.eq(pickup.offer_round))
        .exec(conn)
        .await?;
    if taken.rows_affected == 0 {
        return Err(AppError::Conflict(
            "another collector took this pickup first".into(),
        ));
    }
    let hold = escrow::hold(
        conn,
        vendor.user_id,
        hold_amount(pickup.quote, margin)?,
        &reference(pickup.id),
    )
    .await?;
    pickups::Entity::update_many()
        .col_expr(pickups::Column::HoldId, Expr::value(hold.id))
        .filter(pickups::Column::Id.eq(pickup.id))
        .exec(conn)
        .await?;
    open_chat_room(conn, pickup.id, now).await?;
    let pickup = find(conn, pickup.id).await?;
    record_history(
        conn,
        &pickup,
        Some(PickupStatus::Requested),
        PickupActor::Vendor,
        Some(vendor.user_id),
        None,
    )
    .await?;
    tell(
        conn,
        pickup.household_id,
        "PICKUP_ASSIGNED",
        &format!("Pickup {} has a collector", pickup.number),
        &format!(
            "{} will collect your pickup {}.",
            vendor.business_name, pickup.number
        ),
    )
    .await?;
    Ok(pickup)
}

/// What the end of an offer round did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundOutcome {
    /// The pickup was taken, cancelled or moved on meanwhile: nothing to do.
    Stale,
    /// Offered to this many more vendors, in a new round.
    Reoffered(usize),
    /// Nobody else covers the address: EXPIRED.
    Expired,
}

/// Ends offer round `round` of `pickup_id` if it is still open: the next nearest covering
/// vendors not offered yet get a new round, or, when there are none, the pickup EXPIRES.
pub async fn end_offer_round(
    conn: &impl ConnectionTrait,
    pickup_id: Uuid,
    round: i32,
    rules: OfferRules,
    now: DateTime<Utc>,
) -> AppResult<RoundOutcome> {
    let pickup = find(conn, pickup_id).await?;
    if pickup.status != PickupStatus::Requested || pickup.offer_round != round {
        return Ok(RoundOutcome::Stale);
    }
    let now = now.trunc_subsecs(6);
    let offered: HashSet<Uuid> = pickup_offers::Entity::find()
        .select_only()
        .column(pickup_offers::Column::VendorId)
        .filter(pickup_offers::Column::PickupId.eq(pickup.id))
        .into_tuple::<Uuid>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let next: Vec<(vendors::Model, f64)> =
        slots::covering_vendors(conn, (pickup.address_latitude, pickup.address_longitude))
            .await?
            .into_iter()
            .filter(|(v, _)| v.user_id != pickup.household_id && !offered.contains(&v.id))
            .take(rules.vendors.max(1))
            .collect();
    let open = || {
        pickups::Entity::update_many()
            .col_expr(pickups::Column::UpdatedAt, Expr::value(now))
            .filter(pickups::Column::Id.eq(pickup.id))
            .filter(pickups::Column::Status.eq(PickupStatus::Requested))
            .filter(pickups::Column::OfferRound.eq(round))
    };
    if next.is_empty() {
        let moved = open()
            .col_expr(pickups::Column::Status, Expr::value(PickupStatus::Expired))
            .col_expr(
                pickups::Column::OfferExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .exec(conn)
            .await?;
        if moved.rows_affected == 0 {
            return Ok(RoundOutcome::Stale);
        }
        let pickup = find(conn, pickup.id).await?;
        record_history(
            conn,
            &pickup,
            Some(PickupStatus::Requested),
            PickupActor::System,
            None,
            Some("no collector accepted in time".into()),
        )
        .await?;
        tell(
            conn,
            pickup.household_id,
            "PICKUP_EXPIRED",
            &format!("Pickup {} expired", pickup.number),
            &format!(
                "No collector near you accepted pickup {} in time. Book again, or pick a slot.",
                pickup.number
            ),
        )
        .await?;
        return Ok(RoundOutcome::Expired);
    }
    // Rounds follow each other from the end of the last one, whenever this job got to run.
    let expires = std::cmp::Ord::max(pickup.offer_expires_at.unwrap_or(now), now)
        + Duration::minutes(rules.minutes);
    let moved = open()
        .col_expr(pickups::Column::OfferRound, Expr::value(round + 1))
        .col_expr(pickups::Column::OfferExpiresAt, Expr::value(expires))
        .exec(conn)
        .await?;
    if moved.rows_affected == 0 {
        return Ok(RoundOutcome::Stale);
    }
    let pickup = find(conn, pickup.id).await?;
    offer(conn, &pickup, &next, round + 1, now, expires).await?;
    Ok(RoundOutcome::Reoffered(next.len()))
}
