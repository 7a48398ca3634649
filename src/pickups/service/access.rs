//! Who a caller is to a pickup: its household, its collector, a collector it is offered to, an
//! admin, or nobody (NOT_FOUND: a pickup of others does not exist for them).

use entity::{
    pickup_status_history::PickupActor,
    pickups::{self, PickupStatus},
};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{common::find, offers};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    vendors::service as vendors,
};

/// What the caller is to a pickup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The household that booked it.
    Household,
    /// The vendor collecting it.
    Vendor,
    /// A vendor it is offered to right now (may look at it and accept it).
    Offered,
    /// Staff.
    Admin,
}

/// What `viewer` is to `pickup`, or `None` (the pickup does not exist for them).
pub async fn access_for(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    pickup: &pickups::Model,
) -> AppResult<Option<Access>> {
    if pickup.household_id == viewer.user_id {
        return Ok(Some(Access::Household));
    }
    if let Some(vendor) = vendors::of_user(conn, viewer.user_id).await? {
        if pickup.vendor_id == Some(vendor.id) {
            return Ok(Some(Access::Vendor));
        }
        if pickup.status == PickupStatus::Requested
            && offers::has_open_offer(conn, pickup, vendor.id).await?
        {
            return Ok(Some(Access::Offered));
        }
    }
    Ok(viewer.is_admin().then_some(Access::Admin))
}

/// `pickup_id` if `viewer` may see it, or NOT_FOUND (also for pickups of others).
pub async fn visible(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    pickup_id: Uuid,
) -> AppResult<(pickups::Model, Access)> {
    let pickup = find(conn, pickup_id).await?;
    match access_for(conn, viewer, &pickup).await? {
        Some(access) => Ok((pickup, access)),
        None => Err(AppError::not_found("pickup")),
    }
}

/// Whether `viewer` may download `key` (`pickups/{pickupId}/…`, a photo of the scale): the
/// pickup's household, its collector and admins.
pub async fn may_read_photo(conn: &impl ConnectionTrait, viewer: &Viewer, key: &str) -> bool {
    let Some(id) = key.split('/').nth(1).and_then(|id| id.parse::<Uuid>().ok()) else {
        return false;
    };
    let Ok(pickup) = find(conn, id).await else {
        return false;
    };
    if pickup.weighing_photo_key.as_deref() != Some(key) {
        return false;
    }
    matches!(
        access_for(conn, viewer, &pickup).await,
        Ok(Some(Access::Household | Access::Vendor | Access::Admin))
    )
}

/// The state-table actor of an access (an offered vendor acts as a vendor).
pub fn actor_of(access: Access) -> PickupActor {
    match access {
        Access::Household => PickupActor::Household,
        Access::Vendor | Access::Offered => PickupActor::Vendor,
        Access::Admin => PickupActor::Admin,
    }
}
