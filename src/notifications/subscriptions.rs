//! `notificationAdded`: the signed-in user's notifications as they are created, over the topic
//! the notifications service feeds after commit (`realtime::live`), resumable with `after`.

use std::sync::Arc;

use async_graphql::{Context, ID, Subscription};
use futures_util::stream::BoxStream;

use crate::realtime::{Resume, is_replay, live::NotificationEvent, resumable, topic};
use crate::{
    error::AppError,
    graphql::{context::ContextExt as _, ids::parse_id},
    notifications::{graphql::Notification, service as notifications},
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
