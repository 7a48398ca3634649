//! `notificationAdded` and `orderUpdated`: subscriptions over topics the notifications and
//! orders domains feed (through [`super::live`]).

use std::sync::Arc;

use async_graphql::{Context, ID, Subscription};
use futures_util::stream::BoxStream;

use super::{
    Resume, events, is_replay,
    live::{NotificationEvent, OrderEvent},
    resumable, topic,
};
use crate::{
    error::AppError,
    graphql::{context::ContextExt as _, ids::parse_id},
    notifications::{graphql::Notification, service as notifications},
    orders::{graphql::Order, service as orders},
};

#[derive(Default)]
pub struct NotificationsSubscription;

#[Subscription]
impl NotificationsSubscription {
    /// The signed-in user's new notifications, as they are created. With `after` (the id of
    /// the last notification the client saw), every later stored notification comes first, in
    /// order, then the live ones.
    async fn notification_added(
        &self,
        ctx: &Context<'_>,
        after: Option<ID>,
    ) -> Result<BoxStream<'static, Notification>, AppError> {
        let viewer = ctx.viewer()?;
        let after = after.map(|id| parse_id("after", &id)).transpose()?;
        let resume = after.filter(|_| !is_replay(ctx)).map(|after| {
            let db = ctx.state().db.clone();
            let max = ctx.state().config.ws_resume_max_events;
            let user_id = viewer.user_id;
            Resume {
                load: Box::new(move || {
                    Box::pin(async move {
                        let rows =
                            notifications::notifications_since(&db, user_id, after, max).await?;
                        Ok(rows
                            .iter()
                            .filter_map(|n| {
                                let json = serde_json::to_string(&NotificationEvent::from(n));
                                Some((n.id, Arc::from(json.ok()?)))
                            })
                            .collect())
                    })
                }),
                event_id: NotificationEvent::id_of,
            }
        });
        Ok(resumable(
            ctx,
            topic::notifications(viewer.user_id),
            resume,
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
