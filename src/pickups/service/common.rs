//! What every pickup rule shares: finding a pickup, its ledger reference, a line's amount, the
//! status history, telling a party (in the app and by email), the pickup number, the chat room
//! a pickup gets with its collector, and the one call site of admin actions for the audit log.

use chrono::{DateTime, Datelike as _, SubsecRound as _, Utc};
use entity::{
    chat_rooms,
    pickup_status_history::{self, PickupActor},
    pickups::{self, PickupStatus},
};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait as _, FromQueryResult, Statement,
};
use uuid::Uuid;

use crate::{
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
    chat_rooms::Entity::insert(chat_rooms::ActiveModel {
        id: Set(crate::db::new_id()),
        order_id: Set(None),
        pickup_id: Set(Some(pickup_id)),
        last_message_at: Set(None),
        created_at: Set(now.trunc_subsecs(6)),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
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
