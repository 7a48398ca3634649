//! Moving an order through the transition table ([`crate::orders::state`]) with its money and
//! stock effects, its history row and its notifications.

use chrono::Utc;
use entity::{
    order_items,
    order_status_history::{self, OrderActor},
    orders::{self, OrderStatus},
    products,
};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder as _,
    sea_query::{Expr, ExprTrait as _},
};
use uuid::Uuid;

use super::queries::find;
use super::rules::history_row;
use crate::orders::jobs::{OrderEmail, ReleaseHeldAmount, SendOrderEmail};
use crate::orders::state;
use crate::{
    catalog::reviews,
    error::{AppError, AppResult},
    jobs::queue,
    notifications::service as notifications,
    vendors::service as vendors_service,
    wallet::escrow,
};

pub(super) async fn record_history(
    conn: &impl ConnectionTrait,
    order: &orders::Model,
    from: Option<OrderStatus>,
    actor: OrderActor,
    actor_id: Option<Uuid>,
    note: Option<String>,
) -> AppResult<()> {
    order_status_history::Entity::insert(history_row(order, from, actor, actor_id, note))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Moves an order to `to` as `actor`, if the transition table allows it, with its effects:
/// CANCELLED/REFUNDED void the hold and restore stock; DELIVERED records the purchases (which
/// allow reviews); COMPLETED queues the release of the held amount. The update is conditional
/// on the status read, so of two racing transitions exactly one wins; the other is
/// INVALID_TRANSITION. Notifies the other side and queues the important emails.
pub async fn transition(
    conn: &impl ConnectionTrait,
    order_id: Uuid,
    to: OrderStatus,
    actor: OrderActor,
    actor_id: Option<Uuid>,
    note: Option<String>,
) -> AppResult<orders::Model> {
    let order = find(conn, order_id).await?;
    let from = order.status;
    if !state::allowed(from, to, actor) {
        return Err(AppError::InvalidTransition(format!(
            "{} cannot move an order from {} to {}",
            actor_name(actor),
            state::name(from),
            state::name(to)
        )));
    }
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(AppError::bad_input(
            "note",
            "must be at most 1,000 characters",
        ));
    }
    let now = Utc::now();
    let mut update = orders::Entity::update_many()
        .col_expr(orders::Column::Status, Expr::value(to))
        .col_expr(orders::Column::UpdatedAt, Expr::value(now));
    if to == OrderStatus::Delivered {
        update = update.col_expr(orders::Column::DeliveredAt, Expr::value(now));
    }
    if to == OrderStatus::Completed {
        update = update.col_expr(orders::Column::CompletedAt, Expr::value(now));
    }
    let moved = update
        .filter(orders::Column::Id.eq(order.id))
        .filter(orders::Column::Status.eq(from))
        .exec(conn)
        .await?;
    if moved.rows_affected == 0 {
        let current = find(conn, order.id).await?;
        return Err(AppError::InvalidTransition(format!(
            "the order changed meanwhile: it is now {}",
            state::name(current.status)
        )));
    }
    let order = find(conn, order.id).await?;
    record_history(conn, &order, Some(from), actor, actor_id, note.clone()).await?;

    let items = order_items::Entity::find()
        .filter(order_items::Column::OrderId.eq(order.id))
        .order_by_asc(order_items::Column::ProductId)
        .all(conn)
        .await?;
    if state::returns_money(to) {
        // Products before the wallet, as in placement (lock order).
        for item in &items {
            products::Entity::update_many()
                .col_expr(
                    products::Column::Stock,
                    Expr::col(products::Column::Stock).add(item.quantity),
                )
                .filter(products::Column::Id.eq(item.product_id))
                .exec(conn)
                .await?;
        }
        escrow::void(conn, order.hold_id).await?;
    }
    if to == OrderStatus::Delivered {
        for item in &items {
            reviews::record_purchase(conn, order.buyer_id, item.product_id).await?;
        }
    }
    if to == OrderStatus::Completed {
        queue::enqueue(conn, &ReleaseHeldAmount { order_id: order.id }).await?;
    }
    notify_transition(conn, &order, actor, note.as_deref()).await?;
    let email = match to {
        OrderStatus::Confirmed => Some(OrderEmail::Confirmed),
        OrderStatus::Delivered => Some(OrderEmail::Delivered),
        OrderStatus::Refunded => Some(OrderEmail::Refunded),
        _ => None,
    };
    if let Some(email) = email {
        queue::enqueue(
            conn,
            &SendOrderEmail {
                order_id: order.id,
                email,
            },
        )
        .await?;
    }
    Ok(order)
}

pub(super) fn actor_name(actor: OrderActor) -> &'static str {
    match actor {
        OrderActor::Buyer => "the buyer",
        OrderActor::Vendor => "the vendor",
        OrderActor::Admin => "an admin",
        OrderActor::System => "the system",
    }
}

/// Tells the side(s) that did not act.
pub(super) async fn notify_transition(
    conn: &impl ConnectionTrait,
    order: &orders::Model,
    actor: OrderActor,
    note: Option<&str>,
) -> AppResult<()> {
    let vendor = vendors_service::find(conn, order.vendor_id).await?;
    let status = state::name(order.status);
    let title = format!("Order {} is {}", order.number, status.to_lowercase());
    let mut body = format!("Order {} moved to {status}.", order.number);
    if let Some(note) = note {
        body.push_str(&format!(" Note: {note}"));
    }
    let recipients: &[Uuid] = match actor {
        OrderActor::Buyer => &[vendor.user_id],
        OrderActor::Vendor => &[order.buyer_id],
        OrderActor::Admin | OrderActor::System => &[order.buyer_id, vendor.user_id],
    };
    for user in recipients {
        notifications::notify(
            conn,
            *user,
            &format!("ORDER_{status}"),
            &title,
            &body,
            Some(order.id),
        )
        .await?;
    }
    Ok(())
}
