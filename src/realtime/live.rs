//! Publishing after commit. Services create notifications inside their caller's transaction
//! (`notifications::service::notify`), where nothing may be published yet: the transaction can
//! still roll back, and a subscriber reading the row before the commit would not find it. So
//! `notify` only records the new row in an operation-scoped list ([`record_notification`]); when
//! the operation is over ([`PublishAfterCommit`] for GraphQL operations, [`after`] for jobs),
//! the rows that really were committed are published on `user:{id}:notifications`, and every
//! order they announce (kinds `ORDER_*`, which the orders service writes for each placement and
//! status change) on the order topics for `orderUpdated`.
//!
//! Publishing never fails the operation: errors are logged.

use std::{cell::RefCell, collections::BTreeSet, future::Future, sync::Arc};

use async_graphql::{
    Response,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute},
};
use chrono::{DateTime, Utc};
use entity::{notifications, orders};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QuerySelect as _};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::topic;
use crate::{AppState, vendors::service as vendors};

tokio::task_local! {
    static PENDING: RefCell<Vec<notifications::Model>>;
}

/// Called by `notify` for every row it inserts; outside a publishing scope it does nothing.
pub fn record_notification(model: &notifications::Model) {
    let _ = PENDING.try_with(|pending| pending.borrow_mut().push(model.clone()));
}

/// Runs `work`, then publishes the notifications it created that were committed.
pub async fn after<T>(state: &AppState, work: impl Future<Output = T>) -> T {
    let (result, pending) = PENDING
        .scope(RefCell::new(Vec::new()), async {
            let result = work.await;
            (result, PENDING.with(|p| p.take()))
        })
        .await;
    if !pending.is_empty() {
        publish_committed(state, pending).await;
    }
    result
}

/// The schema extension that wraps every query and mutation in [`after`].
pub struct PublishAfterCommit;

impl ExtensionFactory for PublishAfterCommit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PublishAfterCommitExtension)
    }
}

struct PublishAfterCommitExtension;

#[async_trait::async_trait]
impl Extension for PublishAfterCommitExtension {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        match ctx.data_opt::<AppState>().cloned() {
            Some(state) => after(&state, next.run(ctx, operation_name)).await,
            None => next.run(ctx, operation_name).await,
        }
    }
}

/// A notification as published on `user:{id}:notifications` (the whole row, so a subscriber
/// needs no query to show it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotificationEvent {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub order_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<NotificationEvent> for notifications::Model {
    fn from(e: NotificationEvent) -> Self {
        Self {
            id: e.id,
            user_id: e.user_id,
            kind: e.kind,
            title: e.title,
            body: e.body,
            order_id: e.order_id,
            read_at: None,
            created_at: e.created_at,
        }
    }
}

/// An order changed (published on `order:{id}` and the listing topics).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderEvent {
    pub order_id: Uuid,
}

async fn publish_committed(state: &AppState, pending: Vec<notifications::Model>) {
    let ids: Vec<Uuid> = pending.iter().map(|n| n.id).collect();
    let committed: BTreeSet<Uuid> = match notifications::Entity::find()
        .select_only()
        .column(notifications::Column::Id)
        .filter(notifications::Column::Id.is_in(ids))
        .into_tuple::<Uuid>()
        .all(&state.db)
        .await
    {
        Ok(ids) => ids.into_iter().collect(),
        Err(err) => {
            tracing::warn!(error = %err, "could not tell which notifications were committed");
            return;
        }
    };
    let mut orders = BTreeSet::new();
    for n in pending.into_iter().filter(|n| committed.contains(&n.id)) {
        if n.kind.starts_with("ORDER_")
            && let Some(order_id) = n.order_id
        {
            orders.insert(order_id);
        }
        let event = NotificationEvent {
            id: n.id,
            user_id: n.user_id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            order_id: n.order_id,
            created_at: n.created_at,
        };
        publish_json(state, &topic::notifications(event.user_id), &event).await;
    }
    for order_id in orders {
        order_updated(state, order_id).await;
    }
}

/// Publishes that `order_id` changed, to its own topic and to the listings of its buyer, its
/// vendor's user and admins. Call after the commit.
pub async fn order_updated(state: &AppState, order_id: Uuid) {
    let event = OrderEvent { order_id };
    publish_json(state, &topic::order(order_id), &event).await;
    let order = match orders::Entity::find_by_id(order_id).one(&state.db).await {
        Ok(Some(order)) => order,
        Ok(None) => return,
        Err(err) => {
            tracing::warn!(error = %err, %order_id, "could not load an updated order");
            return;
        }
    };
    publish_json(state, &topic::user_orders(order.buyer_id), &event).await;
    match vendors::find(&state.db, order.vendor_id).await {
        Ok(vendor) => publish_json(state, &topic::user_orders(vendor.user_id), &event).await,
        Err(err) => tracing::warn!(error = %err, %order_id, "could not load an order's vendor"),
    }
    publish_json(state, &topic::all_orders(), &event).await;
}

/// Serializes and publishes; failures are logged.
pub async fn publish_json(state: &AppState, topic: &str, event: &impl Serialize) {
    match serde_json::to_string(event) {
        Ok(payload) => state.pubsub.publish(topic, payload).await,
        Err(err) => tracing::error!(error = %err, %topic, "could not serialize an event"),
    }
}
