//! Order tasks: the emails of the important transitions, releasing a completed order's held
//! amount, and the sweep that completes long-delivered orders.

use anyhow::Context as _;
use chrono::Utc;
use entity::{orders, vendors};
use sea_orm::{EntityTrait as _, TransactionTrait as _};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::email::recipient;
use crate::{AppError, AppState, mail::templates, orders::service};

/// Which order email to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderEmail {
    /// To the buyer (a receipt) and to the vendor (a new order).
    Placed,
    Confirmed,
    Delivered,
    Refunded,
}

pub async fn send_order_email(
    state: &AppState,
    order_id: Uuid,
    email: OrderEmail,
) -> anyhow::Result<()> {
    let order = orders::Entity::find_by_id(order_id)
        .one(&state.db)
        .await
        .context("load the order")?
        .with_context(|| format!("order {order_id} no longer exists"))?;
    let vendor = vendors::Entity::find_by_id(order.vendor_id)
        .one(&state.db)
        .await
        .context("load the vendor")?
        .with_context(|| format!("vendor {} no longer exists", order.vendor_id))?;
    let buyer = recipient(state, order.buyer_id).await?;
    let total = crate::money::format_inr(order.total);
    let to_buyer = match email {
        OrderEmail::Placed => templates::order_placed(
            &buyer.email,
            &buyer.full_name,
            &order.number,
            &vendor.business_name,
            &total,
        ),
        OrderEmail::Confirmed => templates::order_confirmed(
            &buyer.email,
            &buyer.full_name,
            &order.number,
            &vendor.business_name,
        ),
        OrderEmail::Delivered => {
            templates::order_delivered(&buyer.email, &buyer.full_name, &order.number)
        }
        OrderEmail::Refunded => {
            templates::order_refunded(&buyer.email, &buyer.full_name, &order.number, &total)
        }
    };
    state.mailer.send(&to_buyer).await?;
    if email == OrderEmail::Placed {
        let owner = recipient(state, vendor.user_id).await?;
        let to_vendor =
            templates::order_received(&owner.email, &owner.full_name, &order.number, &total);
        state.mailer.send(&to_vendor).await?;
    }
    Ok(())
}

/// Releases a completed order's hold to the vendor (less commission), once.
pub async fn release_held_amount(state: &AppState, order_id: Uuid) -> anyhow::Result<()> {
    let txn = state.db.begin().await.context("begin")?;
    match service::release_held_amount(&txn, order_id).await {
        Ok(()) => txn.commit().await.context("commit the release")?,
        // Another worker settled it first: nothing is left to do.
        Err(AppError::Conflict(_)) => txn.rollback().await.context("rollback")?,
        Err(err) => return Err(anyhow::Error::new(err).context("release the held amount")),
    }
    Ok(())
}

/// Completes the orders delivered more than `AUTO_RELEASE_HOURS` ago. When some could not be
/// completed the job fails, saying how many (its `lastError`), so the failures show in the
/// queue and the sweep is retried; the orders that could be completed are completed either way.
pub async fn auto_release_delivered(state: &AppState) -> anyhow::Result<()> {
    let swept = service::auto_release_delivered(&state.db, Utc::now())
        .await
        .map_err(|err| anyhow::Error::new(err).context("auto-release delivered orders"))?;
    if swept.completed > 0 {
        tracing::info!(
            completed = swept.completed,
            "auto-released delivered orders"
        );
        state.wake_worker();
    }
    if swept.failed > 0 {
        anyhow::bail!(
            "{} delivered orders could not be completed automatically ({} were); see the log for each",
            swept.failed,
            swept.completed
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Task;
    use super::*;

    #[test]
    fn order_tasks_round_trip_through_kind_and_payload() {
        for task in [
            Task::AutoReleaseDelivered,
            Task::ReleaseHeldAmount {
                order_id: Uuid::nil(),
            },
            Task::SendOrderEmail {
                order_id: Uuid::nil(),
                email: OrderEmail::Refunded,
            },
        ] {
            let (kind, payload) = task.to_parts().unwrap_or_default();
            assert_eq!(Task::from_parts(&kind, &payload).ok(), Some(task));
        }
    }
}
