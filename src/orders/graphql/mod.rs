//! `createOrder`, `orders`, `order`, `updateOrderStatus`, `cancelOrder`, `confirmDelivery`,
//! `refundOrder` and the `Order` type. Resolvers parse, find what the caller is to the order
//! (buyer, vendor, admin) and let the transition table decide. `vendorAnalytics` is in
//! [`analytics`].

mod analytics;
mod types;

pub use analytics::{AnalyticsQuery, VendorAnalytics};
pub use types::{
    Order, OrderActor, OrderAddress, OrderItem, OrderRole, OrderStatus, OrderStatusChange,
};

use async_graphql::{Context, ID, InputObject, Object, connection::Connection};
use entity::{order_status_history::OrderActor as ActorModel, orders::OrderStatus as StatusModel};
use sea_orm::TransactionTrait as _;

use super::service::{self, OrderLineInput, PlaceOrderInput, Scope};
use crate::{
    error::AppResult,
    graphql::{
        context::ContextExt as _,
        ids::parse_id,
        relay::{self, ConnectionFields, Cursor, Page},
    },
    vendors::service as vendors,
};

/// One product and how many units of it.
#[derive(InputObject)]
pub struct OrderItemInput {
    pub product_id: ID,
    /// At least 1.
    pub quantity: i32,
}

/// A new order: every item from one vendor, delivered to one of the buyer's addresses.
#[derive(InputObject)]
pub struct CreateOrderInput {
    pub items: Vec<OrderItemInput>,
    /// One of the buyer's addresses; it needs coordinates and must lie in the vendor's service
    /// radius.
    pub address_id: ID,
    /// For the vendor.
    pub note: Option<String>,
    /// Any unique string per attempt: retrying with the same key never orders twice.
    pub idempotency_key: String,
}

/// Narrows `orders`.
#[derive(InputObject, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
}

#[derive(Default)]
pub struct OrdersQuery;

#[Object]
impl OrdersQuery {
    /// Orders the caller may see, newest first: a buyer's own, those received by the caller's
    /// shop, or (admins) all. `as` narrows to one side.
    async fn orders(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrderFilter>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(name = "as")] view_as: Option<OrderRole>,
    ) -> AppResult<Connection<Cursor, Order, ConnectionFields>> {
        let viewer = ctx.viewer()?;
        let page = Page::<Cursor>::new(first, after)?;
        let db = &ctx.state().db;
        let scope = match view_as {
            Some(OrderRole::Buyer) => Scope::Buyer(viewer.user_id),
            Some(OrderRole::Vendor) => {
                Scope::Vendor(vendors::require_own(db, viewer.user_id).await?.id)
            }
            None if viewer.is_admin() => Scope::All,
            None => Scope::Mine {
                buyer: viewer.user_id,
                vendor: vendors::of_user(db, viewer.user_id).await?.map(|v| v.id),
            },
        };
        let status = filter.unwrap_or_default().status.map(Into::into);
        let (rows, total) = service::page(db, scope, status, &page).await?;
        Ok(relay::connection(
            &page,
            rows,
            total,
            |o| Cursor {
                at: o.created_at,
                id: o.id,
            },
            Order,
        ))
    }

    /// One order the caller may see (NOT_FOUND otherwise).
    async fn order(&self, ctx: &Context<'_>, id: ID) -> AppResult<Option<Order>> {
        let viewer = ctx.viewer()?;
        let id = parse_id("id", &id)?;
        let (order, _) = service::visible(&ctx.state().db, &viewer, id).await?;
        Ok(Some(Order(order)))
    }
}

#[derive(Default)]
pub struct OrdersMutation;

/// Moves `order_id` to `to` as whatever the caller is to the order.
async fn move_order(
    ctx: &Context<'_>,
    order_id: &ID,
    to: StatusModel,
    note: Option<String>,
    admin_only: bool,
) -> AppResult<Order> {
    let viewer = if admin_only {
        ctx.admin()?
    } else {
        ctx.viewer()?
    };
    let order_id = parse_id("orderId", order_id)?;
    let state = ctx.state();
    let txn = state.db.begin().await?;
    let (_, actor) = service::visible(&txn, &viewer, order_id).await?;
    let actor = if admin_only { ActorModel::Admin } else { actor };
    let order = service::transition(&txn, order_id, to, actor, Some(viewer.user_id), note).await?;
    txn.commit().await?;
    state.wake_worker();
    Ok(Order(order))
}

#[Object]
impl OrdersMutation {
    /// Places an order: prices are frozen, stock is taken and the total is held from the
    /// buyer's wallet, all at once (INSUFFICIENT_FUNDS, or BAD_USER_INPUT naming `items` or
    /// `addressId`, and nothing happens).
    async fn create_order(&self, ctx: &Context<'_>, input: CreateOrderInput) -> AppResult<Order> {
        let viewer = ctx.viewer()?;
        let items = input
            .items
            .iter()
            .map(|i| {
                Ok(OrderLineInput {
                    product_id: parse_id("items", &i.product_id)?,
                    quantity: i.quantity,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        let state = ctx.state();
        let placed = state
            .placements
            .place(
                viewer.user_id,
                PlaceOrderInput {
                    items,
                    address_id: parse_id("addressId", &input.address_id)?,
                    note: input.note,
                    idempotency_key: input.idempotency_key,
                },
            )
            .await?;
        if placed.created {
            state.wake_worker();
        }
        Ok(Order(placed.order))
    }

    /// Vendor: moves an order along (CONFIRMED, PACKED, SHIPPED, DELIVERED; or CANCELLED to
    /// reject it while PLACED). INVALID_TRANSITION for anything the transition table does not
    /// allow the caller.
    async fn update_order_status(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        status: OrderStatus,
        note: Option<String>,
    ) -> AppResult<Order> {
        move_order(ctx, &order_id, status.into(), note, false).await
    }

    /// Buyer: cancels an order before the vendor confirms it. Vendor: rejects a PLACED order.
    /// The money and the stock are returned.
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        reason: Option<String>,
    ) -> AppResult<Order> {
        move_order(ctx, &order_id, StatusModel::Cancelled, reason, false).await
    }

    /// Buyer: confirms a DELIVERED order arrived; it completes and the vendor is paid.
    async fn confirm_delivery(&self, ctx: &Context<'_>, order_id: ID) -> AppResult<Order> {
        move_order(ctx, &order_id, StatusModel::Completed, None, false).await
    }

    /// Admin: refunds an order that is not completed yet; the money and the stock are returned.
    async fn refund_order(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        reason: Option<String>,
    ) -> AppResult<Order> {
        move_order(ctx, &order_id, StatusModel::Refunded, reason, true).await
    }
}
