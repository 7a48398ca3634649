//! Pickup slots: windows a vendor publishes with a capacity. `remaining` is taken and given
//! back by conditional updates, so concurrent bookings never take a slot past its capacity.

use std::collections::HashMap;

use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use entity::{
    addresses, pickup_slots,
    vendors::{self, KycStatus},
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    sea_query::{Expr, ExprTrait as _},
};
use uuid::Uuid;

use crate::{
    accounts::service as accounts,
    error::{AppError, AppResult},
    geo,
};

/// Most slots one call adds.
pub const MAX_SLOTS_PER_CALL: usize = 100;
/// Most bookings one slot takes.
pub const MAX_CAPACITY: i32 = 100;
/// Longest slot.
const MAX_LENGTH: Duration = Duration::hours(12);
/// Widest window `pickupSlots` searches.
const MAX_WINDOW: Duration = Duration::days(31);

#[derive(Debug, Clone)]
pub struct SlotInput {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub capacity: i32,
}

/// Vendor: publishes slots (all or none).
pub async fn add_slots(
    conn: &impl ConnectionTrait,
    vendor: &vendors::Model,
    slots: Vec<SlotInput>,
    now: DateTime<Utc>,
) -> AppResult<Vec<pickup_slots::Model>> {
    if slots.is_empty() || slots.len() > MAX_SLOTS_PER_CALL {
        return Err(AppError::bad_input(
            "slots",
            format!("add 1 to {MAX_SLOTS_PER_CALL} slots at a time"),
        ));
    }
    let now = now.trunc_subsecs(6);
    let mut rows = Vec::with_capacity(slots.len());
    for slot in slots {
        if slot.end <= slot.start || slot.end - slot.start > MAX_LENGTH {
            return Err(AppError::bad_input(
                "slots",
                "a slot ends after it starts and lasts at most 12 hours",
            ));
        }
        if slot.start <= now {
            return Err(AppError::bad_input(
                "slots",
                "a slot must start in the future",
            ));
        }
        if !(1..=MAX_CAPACITY).contains(&slot.capacity) {
            return Err(AppError::bad_input(
                "slots",
                format!("capacity is 1 to {MAX_CAPACITY}"),
            ));
        }
        rows.push(pickup_slots::Model {
            id: crate::db::new_id(),
            vendor_id: vendor.id,
            starts_at: slot.start.trunc_subsecs(6),
            ends_at: slot.end.trunc_subsecs(6),
            capacity: slot.capacity,
            remaining: slot.capacity,
            removed_at: None,
            created_at: now,
        });
    }
    let active: Vec<pickup_slots::ActiveModel> = rows
        .iter()
        .map(|r| pickup_slots::ActiveModel {
            id: Set(r.id),
            vendor_id: Set(r.vendor_id),
            starts_at: Set(r.starts_at),
            ends_at: Set(r.ends_at),
            capacity: Set(r.capacity),
            remaining: Set(r.remaining),
            removed_at: Set(None),
            created_at: Set(r.created_at),
        })
        .collect();
    crate::db::insert_chunked::<pickup_slots::Entity>(conn, active).await?;
    Ok(rows)
}

/// Vendor: takes a slot off the list (pickups booked into it keep it). NOT_FOUND for a slot of
/// another vendor.
pub async fn remove_slot(
    conn: &impl ConnectionTrait,
    vendor: &vendors::Model,
    slot_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let removed = pickup_slots::Entity::update_many()
        .col_expr(pickup_slots::Column::RemovedAt, Expr::value(now))
        .filter(pickup_slots::Column::Id.eq(slot_id))
        .filter(pickup_slots::Column::VendorId.eq(vendor.id))
        .filter(pickup_slots::Column::RemovedAt.is_null())
        .exec(conn)
        .await?;
    if removed.rows_affected == 0 {
        let exists = pickup_slots::Entity::find_by_id(slot_id)
            .one(conn)
            .await?
            .is_some_and(|s| s.vendor_id == vendor.id);
        if !exists {
            return Err(AppError::not_found("slot"));
        }
        return Ok(false);
    }
    Ok(true)
}

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<pickup_slots::Model> {
    pickup_slots::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("slot"))
}

/// The address's coordinates, which a pickup needs.
pub fn location_of(address: &addresses::Model) -> AppResult<(f64, f64)> {
    match (address.latitude, address.longitude) {
        (Some(lat), Some(lon)) => Ok((lat, lon)),
        _ => Err(AppError::bad_input(
            "addressId",
            "the address needs a location (latitude and longitude) for a pickup",
        )),
    }
}

/// APPROVED vendors whose service area covers `(lat, lon)`, nearest first, with the distance.
pub async fn covering_vendors(
    conn: &impl ConnectionTrait,
    (lat, lon): (f64, f64),
) -> AppResult<Vec<(vendors::Model, f64)>> {
    // A coarse box first (no service radius is above 200 km), then the exact distance.
    let dlat = 200.0 / 111.0;
    let dlon = 200.0 / (111.0 * lat.to_radians().cos().abs().max(0.01));
    let candidates = vendors::Entity::find()
        .filter(vendors::Column::KycStatus.eq(KycStatus::Approved))
        .filter(vendors::Column::Latitude.between(lat - dlat, lat + dlat))
        .filter(vendors::Column::Longitude.between(lon - dlon, lon + dlon))
        .all(conn)
        .await?;
    let mut covering: Vec<(vendors::Model, f64)> = candidates
        .into_iter()
        .map(|v| {
            let d = geo::distance_km(lat, lon, v.latitude, v.longitude);
            (v, d)
        })
        .filter(|(v, d)| *d <= v.service_radius_km)
        .collect();
    covering.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.id.cmp(&b.0.id)));
    Ok(covering)
}

/// Slots with room left in `[from, to)`, not yet started, of approved vendors covering the
/// household's address, soonest first.
pub async fn open_slots(
    conn: &impl ConnectionTrait,
    household: Uuid,
    address_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<Vec<pickup_slots::Model>> {
    if to <= from || to - from > MAX_WINDOW {
        return Err(AppError::bad_input(
            "to",
            "must be after `from`, at most 31 days later",
        ));
    }
    let address = accounts::own_address(conn, household, address_id)
        .await
        .map_err(|_| AppError::bad_input("addressId", "no such address"))?;
    let vendors: HashMap<Uuid, f64> = covering_vendors(conn, location_of(&address)?)
        .await?
        .into_iter()
        .filter(|(v, _)| v.user_id != household)
        .map(|(v, d)| (v.id, d))
        .collect();
    if vendors.is_empty() {
        return Ok(Vec::new());
    }
    Ok(pickup_slots::Entity::find()
        .filter(pickup_slots::Column::VendorId.is_in(vendors.keys().copied()))
        .filter(pickup_slots::Column::StartsAt.gte(std::cmp::Ord::max(from, now)))
        .filter(pickup_slots::Column::StartsAt.lt(to))
        .filter(pickup_slots::Column::Remaining.gt(0))
        .filter(pickup_slots::Column::RemovedAt.is_null())
        .order_by_asc(pickup_slots::Column::StartsAt)
        .order_by_asc(pickup_slots::Column::Id)
        .all(conn)
        .await?)
}

/// Takes one booking of `slot_id`, only if it has room, is not removed and has not started.
/// BAD_USER_INPUT (`slotId`) when it is full.
pub async fn take(conn: &impl ConnectionTrait, slot_id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    let taken = pickup_slots::Entity::update_many()
        .col_expr(
            pickup_slots::Column::Remaining,
            Expr::col(pickup_slots::Column::Remaining).sub(1),
        )
        .filter(pickup_slots::Column::Id.eq(slot_id))
        .filter(pickup_slots::Column::Remaining.gt(0))
        .filter(pickup_slots::Column::RemovedAt.is_null())
        .filter(pickup_slots::Column::StartsAt.gt(now))
        .exec(conn)
        .await?;
    if taken.rows_affected == 0 {
        return Err(AppError::bad_input(
            "slotId",
            "this slot is full or no longer open",
        ));
    }
    Ok(())
}

/// Gives a booking of `slot_id` back (a cancelled pickup), never past its capacity.
pub async fn give_back(conn: &impl ConnectionTrait, slot_id: Uuid) -> AppResult<()> {
    pickup_slots::Entity::update_many()
        .col_expr(
            pickup_slots::Column::Remaining,
            Expr::col(pickup_slots::Column::Remaining).add(1),
        )
        .filter(pickup_slots::Column::Id.eq(slot_id))
        .filter(
            Expr::col(pickup_slots::Column::Remaining)
                .lt(Expr::col(pickup_slots::Column::Capacity)),
        )
        .exec(conn)
        .await?;
    Ok(())
}
