//! `orderUpdated`: an order's (or all of the caller's orders') status changes, over the topics
//! the orders service feeds after commit (`realtime::live`).

use std::sync::Arc;

use async_graphql::{Context, ID, Subscription};
use futures_util::stream::BoxStream;

use crate::realtime::{events, is_replay, live::OrderEvent, topic};
use crate::{
    error::AppError,
    graphql::{context::ContextExt as _, ids::parse_id},
    orders::{graphql::Order, service as orders},
};

#[derive(Default)]
pub struct OrdersSubscription;

#[Subscription]
impl OrdersSubscription {
    /// Changes (status moves, placement) of one order the caller may see (NOT_FOUND otherwise),
    /// or, without `orderId`, of every order the caller buys or sells (admins: every order).
    /// Each event is the order as it is after the change.
    async fn order_updated(
        &self,
        ctx: &Context<'_>,
        order_id: Option<ID>,
    ) -> Result<BoxStream<'static, Order>, AppError> {
        let viewer = ctx.viewer()?;
        let topic = match order_id {
            Some(id) => {
                let id = parse_id("orderId", &id)?;
                if !is_replay(ctx) {
                    orders::visible(&ctx.state().db, &viewer, id).await?;
                }
                topic::order(id)
            }
            None if viewer.is_admin() => topic::all_orders(),
            None => topic::user_orders(viewer.user_id),
        };
        let db = ctx.state().db.clone();
        Ok(events(ctx, topic, move |payload: Arc<str>| {
            let db = db.clone();
            async move {
                let event = serde_json::from_str::<OrderEvent>(&payload).ok()?;
                orders::find(&db, event.order_id).await.ok().map(Order)
            }
        }))
    }
}
