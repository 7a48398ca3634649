//! Placing one order: prices frozen, stock decremented, money held, in one transaction, with
//! its idempotency key. The batched path ([`super::batch`]) falls back to this one.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound as _, Utc};
use entity::{
    order_items,
    order_status_history::OrderActor,
    orders::{self},
    products,
};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait as _,
    sea_query::{Expr, ExprTrait as _},
};
use uuid::Uuid;

use super::rules::{
    CheckedInput, NewOrder, PLACED_KIND, PlaceOrderInput, Placed, check_input, check_order,
    delivery_location, hold_reference, item_rows, key_reused, new_order, no_such_address,
    order_lines, order_number, placed_email, placed_notice, sold_out,
};
use super::transitions::record_history;
use crate::{
    accounts::service as accounts,
    catalog::products as catalog,
    db::numbers::{self, Counter},
    error::{AppError, AppResult},
    jobs::queue,
    notifications::service as notifications,
    vendors::service as vendors_service,
    wallet::escrow,
};

pub(super) async fn by_key(
    conn: &impl ConnectionTrait,
    buyer: Uuid,
    key: &str,
    hash: &str,
) -> AppResult<Option<orders::Model>> {
    let existing = orders::Entity::find()
        .filter(orders::Column::BuyerId.eq(buyer))
        .filter(orders::Column::IdempotencyKey.eq(key))
        .one(conn)
        .await?;
    match existing {
        Some(order) if order.request_hash == hash => Ok(Some(order)),
        Some(_) => Err(key_reused()),
        None => Ok(None),
    }
}

/// Places an order in one transaction: an order exists if and only if its stock was taken and
/// its money held. Replaying `idempotencyKey` with the same input returns the first order.
pub async fn place_order(
    db: &DatabaseConnection,
    buyer: Uuid,
    input: PlaceOrderInput,
) -> AppResult<Placed> {
    let address_id = input.address_id;
    let checked = check_input(input)?;
    place_checked(db, buyer, address_id, &checked).await
}

/// [`place_order`] after [`check_input`]: the one-order-per-transaction path.
pub(super) async fn place_checked(
    db: &DatabaseConnection,
    buyer: Uuid,
    address_id: Uuid,
    checked: &CheckedInput,
) -> AppResult<Placed> {
    if let Some(order) = by_key(db, buyer, &checked.key, &checked.hash).await? {
        return Ok(Placed {
            order,
            created: false,
        });
    }
    let txn = db.begin().await?;
    match place_in(&txn, buyer, address_id, checked).await {
        Ok(order) => {
            txn.commit().await?;
            Ok(Placed {
                order,
                created: true,
            })
        }
        Err(err) => {
            txn.rollback().await?;
            // A parallel request with the same key won the unique index: answer with its order.
            if matches!(err, AppError::Conflict(_))
                && let Some(order) = by_key(db, buyer, &checked.key, &checked.hash).await?
            {
                return Ok(Placed {
                    order,
                    created: false,
                });
            }
            Err(err)
        }
    }
}

pub(super) async fn place_in(
    conn: &impl ConnectionTrait,
    buyer: Uuid,
    address_id: Uuid,
    input: &CheckedInput,
) -> AppResult<orders::Model> {
    let address = accounts::own_address(conn, buyer, address_id)
        .await
        .map_err(|_| no_such_address())?;
    let location = delivery_location(&address)?;

    let ids: Vec<Uuid> = input.lines.iter().map(|l| l.product_id).collect();
    let found: HashMap<Uuid, products::Model> = products::Entity::find()
        .filter(products::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let (lines, vendor_id) = order_lines(&input.lines, &found)?;
    let vendor = vendors_service::find(conn, vendor_id).await?;
    let subtotal = check_order(buyer, &vendor, &lines, location)?;
    let bps = vendors_service::commission_bps(conn, &vendor).await?;
    escrow::commission(subtotal, bps)?;

    // Stock first, in product-id order, then the wallet: every transaction takes its row locks
    // in the same order, so concurrent orders queue instead of deadlocking.
    let mut by_id: Vec<&(products::Model, i32)> = lines.iter().collect();
    by_id.sort_by_key(|(p, _)| p.id);
    let now = Utc::now().trunc_subsecs(6);
    for (product, quantity) in by_id {
        take_stock(conn, product, *quantity, now).await?;
    }
    let order_id = crate::db::new_id();
    let hold = escrow::hold(conn, buyer, subtotal, &hold_reference(order_id)).await?;
    let number = order_number(now, numbers::next(conn, Counter::Orders).await?);

    let order = new_order(NewOrder {
        id: order_id,
        number,
        buyer,
        vendor_id,
        subtotal,
        bps,
        hold_id: hold.id,
        address,
        location,
        input,
        now,
    })?;
    orders::Entity::insert(orders::ActiveModel::from(order.clone()))
        .exec_without_returning(conn)
        .await?;
    order_items::Entity::insert_many(item_rows(order_id, &lines))
        .exec_without_returning(conn)
        .await?;
    record_history(conn, &order, None, OrderActor::Buyer, Some(buyer), None).await?;
    let (title, body) = placed_notice(&order);
    notifications::notify(
        conn,
        vendor.user_id,
        PLACED_KIND,
        &title,
        &body,
        Some(order.id),
    )
    .await?;
    queue::enqueue(conn, &placed_email(order_id)).await?;
    Ok(order)
}

// The rules of a placement, shared by the single path above and the batched one
// (`super::placement`), so both accept and refuse exactly the same orders with the same errors.

/// Takes `quantity` units of `product`, only if that many are left.
pub(super) async fn take_stock(
    conn: &impl ConnectionTrait,
    product: &products::Model,
    quantity: i32,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let taken = products::Entity::update_many()
        .col_expr(
            products::Column::Stock,
            Expr::col(products::Column::Stock).sub(quantity),
        )
        .col_expr(products::Column::UpdatedAt, Expr::value(now))
        .filter(products::Column::Id.eq(product.id))
        .filter(products::Column::Stock.gte(quantity))
        .exec(conn)
        .await?;
    if taken.rows_affected == 0 {
        let left = catalog::find(conn, product.id)
            .await?
            .map_or(0, |p| p.stock);
        return Err(sold_out(product, left));
    }
    Ok(())
}
