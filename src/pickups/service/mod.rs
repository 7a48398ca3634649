//! Pickup rules, one concept a file: [`rates`] (rate cards), [`slots`] (vendors' windows),
//! [`booking`] (quotes, slots, offers, acceptance), [`transitions`] (the moves and their
//! effects), [`settlement`] (the money at completion), [`queries`] (listings, summaries,
//! analytics). Every function runs inside its caller's transaction unless it says otherwise.

pub mod booking;
pub mod queries;
pub mod rates;
pub mod settlement;
pub mod slots;
pub mod transitions;

use chrono::{DateTime, Datelike as _, SubsecRound as _, Utc};
use entity::{
    pickup_status_history::{self, PickupActor},
    pickups::{self, PickupStatus},
};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait as _, FromQueryResult, Statement,
};
use uuid::Uuid;

use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    jobs::queue,
    notifications::service as notifications,
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

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<pickups::Model> {
    pickups::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("pickup"))
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
            && booking::has_open_offer(conn, pickup, vendor.id).await?
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

/// `pickup:<id>`: the reference of the pickup's ledger transfers and holds.
pub fn reference(pickup_id: Uuid) -> String {
    format!("pickup:{pickup_id}")
}

/// round(weight_grams × price_per_kg / 1000), half up, in paise.
pub fn line_amount(weight_grams: i64, price_per_kg: i64) -> AppResult<i64> {
    if weight_grams < 0 || price_per_kg < 0 {
        return Err(AppError::internal(anyhow::anyhow!(
            "negative weight or price in a pickup line"
        )));
    }
    let exact = i128::from(weight_grams) * i128::from(price_per_kg);
    i64::try_from((exact + 500) / 1000)
        .map_err(|_| AppError::bad_input("lines", "the amount is too large"))
}

pub(crate) async fn record_history(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    from: Option<PickupStatus>,
    actor: PickupActor,
    actor_id: Option<Uuid>,
    note: Option<String>,
) -> AppResult<()> {
    pickup_status_history::Entity::insert(pickup_status_history::ActiveModel {
        id: Set(crate::db::new_id()),
        pickup_id: Set(pickup.id),
        from_status: Set(from),
        status: Set(pickup.status),
        note: Set(note),
        actor: Set(actor),
        actor_id: Set(actor_id),
        created_at: Set(Utc::now().trunc_subsecs(6)),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// An in-app notification for `user_id`, and its email (sent by the job queue unless it is
/// read first).
pub(crate) async fn tell(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    kind: &str,
    title: &str,
    body: &str,
) -> AppResult<()> {
    let notice = notifications::notify(conn, user_id, kind, title, body, None).await?;
    queue::enqueue(
        conn,
        &crate::notifications::jobs::SendNotification {
            notification_id: notice.id,
        },
    )
    .await?;
    Ok(())
}

/// The user of the vendor collecting `pickup`, if one does.
pub(crate) async fn vendor_user(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
) -> AppResult<Option<Uuid>> {
    match pickup.vendor_id {
        Some(id) => Ok(Some(vendors::find(conn, id).await?.user_id)),
        None => Ok(None),
    }
}

#[derive(FromQueryResult)]
struct Next {
    value: i64,
}

/// The next pickup number: a sequence on PostgreSQL; on SQLite (one writer) a counter row
/// bumped in the booking transaction.
pub(crate) async fn next_number(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT nextval('pickup_number_seq') AS value",
        _ => "UPDATE counters SET value = value + 1 WHERE name = 'pickup_number' RETURNING value",
    };
    let n = Next::find_by_statement(Statement::from_string(backend, sql))
        .one(conn)
        .await?
        .map(|n| n.value)
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("the pickup-number counter is missing"))
        })?;
    Ok(format!("PK-{}-{n:06}", now.year()))
}

/// Where admin actions on pickups (`setRate`, `resolvePickupDispute`) are recorded: the one
/// call site the audit log hooks into, inside the action's transaction.
pub(crate) async fn record_admin_action(
    _conn: &impl ConnectionTrait,
    admin_id: Uuid,
    action: &str,
    subject_id: Uuid,
    detail: &str,
) -> AppResult<()> {
    tracing::info!(%admin_id, action, %subject_id, detail, "admin action on pickups");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::line_amount;

    #[test]
    fn a_line_is_rounded_half_up_to_the_paisa() {
        assert_eq!(line_amount(12_400, 1_400).ok(), Some(17_360));
        assert_eq!(line_amount(1, 500).ok(), Some(1));
        assert_eq!(line_amount(1, 499).ok(), Some(0));
        assert_eq!(line_amount(333, 1_001).ok(), Some(333));
    }
}
