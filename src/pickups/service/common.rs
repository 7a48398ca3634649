//! What every pickup rule shares: finding a pickup, its ledger reference, a line's amount, the
//! status history, telling a party (in the app and by email), the pickup number, the chat room
//! a pickup gets with its collector, and the one call site of admin actions for the audit log.

use chrono::{DateTime, Datelike as _, SubsecRound as _, Utc};
use entity::{
    chat_rooms,
    pickup_status_history::{self, PickupActor},
    pickups::{self, PickupStatus},
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait as _};
use uuid::Uuid;

use crate::{
    db::numbers::{self, Counter},
    error::{AppError, AppResult},
    jobs::queue,
    notifications::{jobs::SendNotification, service as notifications},
    vendors::service as vendors,
};

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<pickups::Model> {
    pickups::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("pickup"))
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
    pickup_status_history::Entity::insert(history_row(pickup, from, actor, actor_id, note))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The history row of `pickup` having reached its status, not stored yet.
pub(crate) fn history_row(
    pickup: &pickups::Model,
    from: Option<PickupStatus>,
    actor: PickupActor,
    actor_id: Option<Uuid>,
    note: Option<String>,
) -> pickup_status_history::ActiveModel {
    pickup_status_history::ActiveModel {
        id: Set(crate::db::new_id()),
        pickup_id: Set(pickup.id),
        from_status: Set(from),
        status: Set(pickup.status),
        note: Set(note),
        actor: Set(actor),
        actor_id: Set(actor_id),
        created_at: Set(Utc::now().trunc_subsecs(6)),
    }
}

/// What to tell one party: (user, kind, title, body).
pub(crate) type Notice = (Uuid, String, String, String);

/// An in-app notification for `user_id`, and its email (sent by the job queue unless it is
/// read first).
pub(crate) async fn tell(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    kind: &str,
    title: &str,
    body: &str,
) -> AppResult<()> {
    tell_all(
        conn,
        vec![(user_id, kind.to_owned(), title.to_owned(), body.to_owned())],
    )
    .await
}

/// [`tell`] for several parties at once: one multi-row insert of the notifications, one of
/// their email jobs.
pub(crate) async fn tell_all(conn: &impl ConnectionTrait, notices: Vec<Notice>) -> AppResult<()> {
    let models = notices
        .into_iter()
        .map(|(user, kind, title, body)| {
            notifications::new_notification(user, &kind, title, body, None)
        })
        .collect();
    let stored = notifications::notify_all(conn, models).await?;
    let emails: Vec<SendNotification> = stored
        .iter()
        .map(|n| SendNotification {
            notification_id: n.id,
        })
        .collect();
    queue::enqueue_all(conn, &emails).await?;
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

/// Opens the chat room of `pickup_id` for its household and its new collector, in the
/// transaction that assigns the collector, so a pickup has a room exactly when it has a
/// collector. (The room is a plain row: the chat domain stands above pickups and owns who may
/// use it; `chat_rooms.pickup_id` is unique, so a pickup never gets two.)
pub(crate) async fn open_chat_room(
    conn: &impl ConnectionTrait,
    pickup_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    chat_rooms::Entity::insert(chat_room_row(pickup_id, now))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The chat room row of `pickup_id` (see [`open_chat_room`]), not stored yet.
pub(crate) fn chat_room_row(pickup_id: Uuid, now: DateTime<Utc>) -> chat_rooms::ActiveModel {
    chat_rooms::ActiveModel {
        id: Set(crate::db::new_id()),
        order_id: Set(None),
        pickup_id: Set(Some(pickup_id)),
        last_message_at: Set(None),
        created_at: Set(now.trunc_subsecs(6)),
    }
}

/// The pickup number of the `n`th pickup booked in `now`'s year.
pub(crate) fn pickup_number(now: DateTime<Utc>, n: i64) -> String {
    format!("PK-{}-{n:06}", now.year())
}

/// The next pickup number.
pub(crate) async fn next_number(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> AppResult<String> {
    Ok(pickup_number(
        now,
        numbers::next(conn, Counter::Pickups).await?,
    ))
}

/// Records an admin action on pickups (`setRate`) in the audit log, inside the action's
/// transaction.
pub(crate) async fn record_admin_action(
    conn: &impl ConnectionTrait,
    admin_id: Uuid,
    action: &'static str,
    subject_type: &'static str,
    subject_id: Uuid,
    detail: &str,
) -> AppResult<()> {
    record_admin_change(
        conn,
        admin_id,
        action,
        subject_type,
        subject_id,
        serde_json::Value::Null,
        serde_json::json!({ "detail": detail }),
    )
    .await
}

/// Records an admin action on pickups with the values before and after it
/// (`resolvePickupDispute`), inside the action's transaction.
pub(crate) async fn record_admin_change(
    conn: &impl ConnectionTrait,
    admin_id: Uuid,
    action: &'static str,
    subject_type: &'static str,
    subject_id: Uuid,
    before: serde_json::Value,
    after: serde_json::Value,
) -> AppResult<()> {
    let entry =
        crate::audit::Entry::new(admin_id, action, subject_type, subject_id).change(before, after);
    crate::audit::record(conn, entry).await?;
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
