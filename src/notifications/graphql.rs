//! `notifications(unreadOnly, first, after)` and `markNotificationsRead(ids)`.

use async_graphql::{Context, ID, Object, connection::Connection};
use chrono::{DateTime, Utc};
use entity::notifications;

use super::service;
use crate::{
    error::AppResult,
    graphql::{
        context::ContextExt as _,
        ids::parse_id,
        relay::{self, ConnectionFields, Cursor, Page},
    },
    orders::{graphql::Order, loaders::OrderById},
};

/// A message to the signed-in user about something that happened (an order moved, a payout
/// was paid, …).
pub struct Notification(pub notifications::Model);

#[Object]
impl Notification {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// What it is about: `ORDER_PLACED`, `ORDER_CONFIRMED`, …, `PAYOUT_PAID`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn body(&self) -> &str {
        &self.0.body
    }

    /// The order it is about, if any.
    async fn order(&self, ctx: &Context<'_>) -> AppResult<Option<Order>> {
        let Some(order_id) = self.0.order_id else {
            return Ok(None);
        };
        Ok(ctx.loader().load_one(OrderById(order_id)).await?.map(Order))
    }

    /// Whether the user has marked it read.
    async fn is_read(&self) -> bool {
        self.0.read_at.is_some()
    }

    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct NotificationsQuery;

#[Object]
impl NotificationsQuery {
    /// The signed-in user's notifications, newest first.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        unread_only: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Connection<Cursor, Notification, ConnectionFields>> {
        let viewer = ctx.viewer()?;
        let page = Page::<Cursor>::new(first, after)?;
        let (rows, total) = service::page(
            &ctx.state().db,
            viewer.user_id,
            unread_only.unwrap_or(false),
            &page,
        )
        .await?;
        Ok(relay::connection(
            &page,
            rows,
            total,
            |n| Cursor {
                at: n.created_at,
                id: n.id,
            },
            Notification,
        ))
    }
}

#[derive(Default)]
pub struct NotificationsMutation;

#[Object]
impl NotificationsMutation {
    /// Marks the given notifications (or, without `ids`, all of them) read. Returns how many
    /// were unread.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        ids: Option<Vec<ID>>,
    ) -> AppResult<i32> {
        let viewer = ctx.viewer()?;
        let ids = ids
            .map(|ids| ids.iter().map(|id| parse_id("ids", id)).collect())
            .transpose()?;
        let marked = service::mark_read(&ctx.state().db, viewer.user_id, ids).await?;
        Ok(i32::try_from(marked).unwrap_or(i32::MAX))
    }
}
