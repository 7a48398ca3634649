//! Reading orders: one order, who is acting on it, whether a viewer may see it, and pages.

use entity::{
    order_status_history::OrderActor,
    orders::{self, OrderStatus},
};
use sea_orm::{ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _};
use uuid::Uuid;

use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    paging::{Cursor, Page},
    vendors::service as vendors_service,
};

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<orders::Model> {
    orders::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("order"))
}

/// What `viewer` is to `order`: its buyer, its vendor, an admin — or nobody (`None`: the order
/// does not exist for them).
pub async fn actor_for(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    order: &orders::Model,
) -> AppResult<Option<OrderActor>> {
    if order.buyer_id == viewer.user_id {
        return Ok(Some(OrderActor::Buyer));
    }
    let vendor = vendors_service::find(conn, order.vendor_id).await?;
    if vendor.user_id == viewer.user_id {
        return Ok(Some(OrderActor::Vendor));
    }
    Ok(viewer.is_admin().then_some(OrderActor::Admin))
}

/// `order_id` if `viewer` may see it, or NOT_FOUND (also for orders of others).
pub async fn visible(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    order_id: Uuid,
) -> AppResult<(orders::Model, OrderActor)> {
    let order = find(conn, order_id).await?;
    match actor_for(conn, viewer, &order).await? {
        Some(actor) => Ok((order, actor)),
        None => Err(AppError::not_found("order")),
    }
}

/// Whose orders a listing covers.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// Admins: every order.
    All,
    /// Orders the user placed.
    Buyer(Uuid),
    /// Orders placed with the vendor.
    Vendor(Uuid),
    /// Both of the above for one user (a vendor who also buys).
    Mine { buyer: Uuid, vendor: Option<Uuid> },
}

/// A page of orders in `scope`, newest first, and how many there are in all.
pub async fn page(
    conn: &impl ConnectionTrait,
    scope: Scope,
    status: Option<OrderStatus>,
    page: &Page<Cursor>,
) -> AppResult<(Vec<orders::Model>, i64)> {
    let mut filter = match scope {
        Scope::All => Condition::all(),
        Scope::Buyer(user) => Condition::all().add(orders::Column::BuyerId.eq(user)),
        Scope::Vendor(vendor) => Condition::all().add(orders::Column::VendorId.eq(vendor)),
        Scope::Mine { buyer, vendor } => {
            let mut either = Condition::any().add(orders::Column::BuyerId.eq(buyer));
            if let Some(vendor) = vendor {
                either = either.add(orders::Column::VendorId.eq(vendor));
            }
            Condition::all().add(either)
        }
    };
    if let Some(status) = status {
        filter = filter.add(orders::Column::Status.eq(status));
    }
    crate::paging::newest_first::<orders::Entity>(
        conn,
        filter,
        orders::Column::CreatedAt,
        orders::Column::Id,
        page,
    )
    .await
}
