//! Settling a completed order's hold: the release to the vendor less commission, once, and the
//! recurring sweep that completes long-delivered orders.

use chrono::{DateTime, Duration, Utc};
use entity::{
    holds::HoldStatus,
    ledger_accounts::AccountKind,
    order_status_history::OrderActor,
    orders::{self, OrderStatus},
};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder as _, QuerySelect as _, TransactionTrait as _,
};
use uuid::Uuid;

use super::queries::find;
use super::transitions::transition;
use crate::orders::state;
use crate::{
    error::{AppError, AppResult},
    settings::service::{self as settings, Setting},
    wallet::{escrow, ledger},
};

/// Releases a COMPLETED order's hold: the total less commission to the vendor's earnings
/// account (owned by the vendor id), the commission to platform revenue. Idempotent: a hold
/// already released is left alone.
pub async fn release_held_amount(conn: &impl ConnectionTrait, order_id: Uuid) -> AppResult<()> {
    let order = find(conn, order_id).await?;
    if order.status != OrderStatus::Completed {
        return Err(AppError::InvalidTransition(format!(
            "order {} is {}, not COMPLETED",
            order.number,
            state::name(order.status)
        )));
    }
    let hold = escrow::find(conn, order.hold_id).await?;
    match hold.status {
        HoldStatus::Released => Ok(()),
        HoldStatus::Voided => Err(AppError::internal(anyhow::anyhow!(
            "the hold of completed order {} was voided",
            order.number
        ))),
        HoldStatus::Held => {
            let earnings =
                ledger::account(conn, AccountKind::VendorEarnings, order.vendor_id).await?;
            escrow::release(conn, hold.id, &earnings, order.total, order.commission).await?;
            Ok(())
        }
    }
}

/// What one auto-release sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AutoReleased {
    /// Orders it completed (their releases are queued).
    pub completed: u64,
    /// Orders it could not complete; each is logged, and left DELIVERED for the next sweep.
    pub failed: u64,
}

/// How many due orders one query of the sweep reads.
pub(super) const AUTO_RELEASE_PAGE: u64 = 500;

/// Completes every order DELIVERED more than `AUTO_RELEASE_HOURS` before `now` (as the system),
/// each in its own transaction. Orders the buyer completed meanwhile are skipped. An order that
/// fails is logged and counted, and the sweep goes on: one bad order must not hold back every
/// release after it. The due orders are read in pages by (delivered_at, id), so even a page full
/// of failing orders does not hide the ones behind it. Called by the `auto_release_delivered`
/// task (and a scheduler).
pub async fn auto_release_delivered(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<AutoReleased> {
    let hours = settings::get(db, Setting::AutoReleaseHours).await?;
    let cutoff = now - Duration::hours(hours);
    let mut swept = AutoReleased::default();
    let mut after: Option<(DateTime<Utc>, Uuid)> = None;
    loop {
        let mut due = orders::Entity::find()
            .filter(orders::Column::Status.eq(OrderStatus::Delivered))
            .filter(orders::Column::DeliveredAt.lte(cutoff));
        if let Some((at, id)) = after {
            due = due.filter(
                Condition::any()
                    .add(orders::Column::DeliveredAt.gt(at))
                    .add(
                        Condition::all()
                            .add(orders::Column::DeliveredAt.eq(at))
                            .add(orders::Column::Id.gt(id)),
                    ),
            );
        }
        let due = due
            .order_by_asc(orders::Column::DeliveredAt)
            .order_by_asc(orders::Column::Id)
            .limit(AUTO_RELEASE_PAGE)
            .all(db)
            .await?;
        let Some(last) = due.last() else {
            break;
        };
        after = last.delivered_at.map(|at| (at, last.id));
        for order in &due {
            match auto_release_one(db, order.id, hours).await {
                Ok(true) => swept.completed += 1,
                Ok(false) => {}
                Err(err) => {
                    swept.failed += 1;
                    tracing::error!(
                        order_id = %order.id,
                        order_number = %order.number,
                        error = ?err,
                        "could not complete a delivered order automatically"
                    );
                }
            }
        }
        if after.is_none() || (due.len() as u64) < AUTO_RELEASE_PAGE {
            break;
        }
    }
    Ok(swept)
}

/// Completes one delivered order in its own transaction; false when it moved meanwhile.
pub(super) async fn auto_release_one(
    db: &DatabaseConnection,
    order_id: Uuid,
    hours: i64,
) -> AppResult<bool> {
    let txn = db.begin().await?;
    match transition(
        &txn,
        order_id,
        OrderStatus::Completed,
        OrderActor::System,
        None,
        Some(format!(
            "completed automatically {hours} hours after delivery"
        )),
    )
    .await
    {
        Ok(_) => {
            txn.commit().await?;
            Ok(true)
        }
        Err(AppError::InvalidTransition(_)) => {
            txn.rollback().await?;
            Ok(false)
        }
        Err(other) => Err(other),
    }
}
