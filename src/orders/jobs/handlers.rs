//! What the order jobs do.

use anyhow::Context as _;
use chrono::Utc;
use entity::{orders, vendors};
use sea_orm::{EntityTrait as _, TransactionTrait as _};
use uuid::Uuid;

use super::{AutoReleaseDelivered, OrderEmail, ReleaseHeldAmount, SendOrderEmail};
use crate::{
    AppError, AppState,
    jobs::job::{Job as _, Queued, Recurring, Registry},
    mail::{recipient, templates},
    orders::service,
};

pub fn register(registry: &mut Registry<AppState>) {
    registry
        .handle(|state, job: SendOrderEmail| async move {
            send_order_email(&state, job.order_id, job.email).await
        })
        .handle(|state, job: ReleaseHeldAmount| async move {
            release_held_amount(&state, job.order_id).await
        })
        .handle(
            |state, _: AutoReleaseDelivered| async move { auto_release_delivered(&state).await },
        )
        .every(Recurring {
            name: AutoReleaseDelivered::KIND,
            expression: |config| &config.schedule_auto_release,
            job: |_| Queued::of(&AutoReleaseDelivered),
        });
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
    let buyer = recipient(&state.db, order.buyer_id).await?;
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
        let owner = recipient(&state.db, vendor.user_id).await?;
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
