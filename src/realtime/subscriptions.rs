//! `notificationAdded` and `orderUpdated`: subscriptions over topics the notifications and
//! orders domains feed (through [`super::live`]).

use std::sync::Arc;

use async_graphql::{Context, ID, Subscription};
use futures_util::stream::BoxStream;

use super::{
    events, is_replay,
    live::{NotificationEvent, OrderEvent},
    topic,
};
use crate::{
    error::AppError,
    graphql::{context::ContextExt as _, parse_id},
    notifications::graphql::Notification,
    orders::{graphql::Order, service as orders},
};

#[derive(Default)]
pub struct NotificationsSubscription;

#[Subscription]
impl NotificationsSubscription {
    /// The signed-in user's new notifications, as they are created.
    async fn notification_added(
        &self,
        ctx: &Context<'_>,
    ) -> Result<BoxStream<'static, Notification>, AppError> {
        let viewer = ctx.viewer()?;
        Ok(events(
            ctx,
            topic::notifications(viewer.user_id),
            |payload: Arc<str>| async move {
                serde_json::from_str::<NotificationEvent>(&payload)
                    .ok()
                    .map(|e| Notification(e.into()))
            },
        ))
    }
}

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
