//! `pickupUpdated(pickupId)`: status changes and the collector's location, to the household,
//! its collector and admins (a vendor that is only offered the pickup does not follow it).

use std::sync::Arc;

use async_graphql::{Context, ID, Subscription};
use futures_util::stream::BoxStream;

use super::parts::PickupEvent;
use crate::{
    error::AppError,
    graphql::{context::ContextExt as _, ids::parse_id},
    pickups::{
        events,
        service::{self, Access},
    },
    realtime::{events as topic_events, is_replay},
};

#[derive(Default)]
pub struct PickupsSubscription;

#[Subscription]
impl PickupsSubscription {
    /// Changes of one pickup the caller books, collects or (admins) oversees (NOT_FOUND
    /// otherwise): each status change, and the collector's location while EN_ROUTE (at most
    /// one point per throttle interval; only the last point is kept).
    async fn pickup_updated(
        &self,
        ctx: &Context<'_>,
        pickup_id: ID,
    ) -> Result<BoxStream<'static, PickupEvent>, AppError> {
        let id = parse_id("pickupId", &pickup_id)?;
        if !is_replay(ctx) {
            let viewer = ctx.viewer()?;
            let (_, access) = service::visible(&ctx.state().db, &viewer, id).await?;
            if access == Access::Offered {
                return Err(AppError::not_found("pickup"));
            }
        }
        Ok(topic_events(
            ctx,
            events::topic(id),
            |payload: Arc<str>| async move {
                serde_json::from_str::<events::PickupEvent>(&payload)
                    .ok()
                    .map(PickupEvent)
            },
        ))
    }
}
