//! Publishing after commit. Services create notifications inside their caller's transaction
//! (`notifications::service::notify`), where nothing may be published yet: the transaction can
//! still roll back, and a subscriber reading the row before the commit would not find it. So
//! `notify` only records the new row in an operation-scoped list ([`record_notification`]); when
//! the operation is over ([`PublishAfterCommit`] for GraphQL operations, [`after`] for jobs),
//! the rows that really were committed are published on `user:{id}:notifications`, and every
//! order they announce (kinds `ORDER_*`, which the orders service writes for each placement and
//! status change) on the order topics for `orderUpdated`.
//!
//! A caller that knows its rows are committed (the batched order placement answers only after
//! its batch committed) records them with [`record_committed`], with the order's parties, so
//! publishing them reads nothing back.
//!
//! Publishing never fails the operation: errors are logged.

use std::{
    cell::RefCell,
    collections::{BTreeSet, HashMap},
    future::Future,
    sync::Arc,
};

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
    static PENDING: RefCell<Pending>;
}

/// Who an order concerns: its buyer and its vendor's user (the listing topics it goes to).
#[derive(Debug, Clone, Copy)]
pub struct OrderParties {
    pub buyer_id: Uuid,
    pub vendor_user_id: Uuid,
}

/// What an operation created, in order; `true` where the row is known to be committed.
#[derive(Default)]
struct Pending {
    notices: Vec<(notifications::Model, bool)>,
    parties: HashMap<Uuid, OrderParties>,
}

/// Called by `notify` for every row it inserts; outside a publishing scope it does nothing.
pub fn record_notification(model: &notifications::Model) {
    let _ = PENDING.try_with(|pending| pending.borrow_mut().notices.push((model.clone(), false)));
}

/// Records a notification its caller knows was committed, with the parties of the order it
/// announces (if any): publishing it then reads nothing from the database.
pub fn record_committed(model: &notifications::Model, parties: Option<OrderParties>) {
    let _ = PENDING.try_with(|pending| {
        let mut pending = pending.borrow_mut();
        if let (Some(order_id), Some(parties)) = (model.order_id, parties) {
            pending.parties.insert(order_id, parties);
        }
        pending.notices.push((model.clone(), true));
    });
}

/// Runs `work`, then publishes the notifications it created that were committed.
pub async fn after<T>(state: &AppState, work: impl Future<Output = T>) -> T {
    let (result, pending) = PENDING
        .scope(RefCell::new(Pending::default()), async {
            let result = work.await;
            (result, PENDING.with(|p| p.take()))
        })
        .await;
    if !pending.notices.is_empty() {
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

impl From<&notifications::Model> for NotificationEvent {
    fn from(n: &notifications::Model) -> Self {
        Self {
            id: n.id,
            user_id: n.user_id,
            kind: n.kind.clone(),
            title: n.title.clone(),
            body: n.body.clone(),
            order_id: n.order_id,
            created_at: n.created_at,
        }
    }
}

impl NotificationEvent {
    /// The id of the notification a raw `user:{id}:notifications` payload carries.
    pub fn id_of(payload: &str) -> Option<Uuid> {
        #[derive(Deserialize)]
        struct Event {
            id: Uuid,
        }
        serde_json::from_str::<Event>(payload).ok().map(|e| e.id)
    }
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

async fn publish_committed(state: &AppState, pending: Pending) {
    let unsure: Vec<Uuid> = pending
        .notices
        .iter()
        .filter(|(_, known)| !known)
        .map(|(n, _)| n.id)
        .collect();
    let committed: BTreeSet<Uuid> = if unsure.is_empty() {
        BTreeSet::new()
    } else {
        match notifications::Entity::find()
            .select_only()
            .column(notifications::Column::Id)
            .filter(notifications::Column::Id.is_in(unsure))
            .into_tuple::<Uuid>()
            .all(&state.db)
            .await
        {
            Ok(ids) => ids.into_iter().collect(),
            Err(err) => {
                tracing::warn!(error = %err, "could not tell which notifications were committed");
                BTreeSet::new()
            }
        }
    };
    let mut orders = BTreeSet::new();
    for (n, _) in pending
        .notices
        .into_iter()
        .filter(|(n, known)| *known || committed.contains(&n.id))
    {
        if n.kind.starts_with("ORDER_")
            && let Some(order_id) = n.order_id
        {
            orders.insert(order_id);
        }
        let event = NotificationEvent::from(&n);
        publish_json(state, &topic::notifications(event.user_id), &event).await;
    }
    for order_id in orders {
        match pending.parties.get(&order_id) {
            Some(parties) => publish_order(state, order_id, *parties).await,
            None => order_updated(state, order_id).await,
        }
    }
}

/// Publishes that `order_id` changed, to its own topic and to the listings of its buyer, its
/// vendor's user and admins. Call after the commit.
pub async fn order_updated(state: &AppState, order_id: Uuid) {
    let order = match orders::Entity::find_by_id(order_id).one(&state.db).await {
        Ok(Some(order)) => order,
        Ok(None) => return,
        Err(err) => {
            tracing::warn!(error = %err, %order_id, "could not load an updated order");
            return;
        }
    };
    match vendors::find(&state.db, order.vendor_id).await {
        Ok(vendor) => {
            let parties = OrderParties {
                buyer_id: order.buyer_id,
                vendor_user_id: vendor.user_id,
            };
            publish_order(state, order_id, parties).await;
        }
        Err(err) => tracing::warn!(error = %err, %order_id, "could not load an order's vendor"),
    }
}

/// [`order_updated`] with the parties already known.
async fn publish_order(state: &AppState, order_id: Uuid, parties: OrderParties) {
    let event = OrderEvent { order_id };
    publish_json(state, &topic::order(order_id), &event).await;
    publish_json(state, &topic::user_orders(parties.buyer_id), &event).await;
    publish_json(state, &topic::user_orders(parties.vendor_user_id), &event).await;
    publish_json(state, &topic::all_orders(), &event).await;
}

/// Serializes and publishes; failures are logged.
pub async fn publish_json(state: &AppState, topic: &str, event: &impl Serialize) {
    match serde_json::to_string(event) {
        Ok(payload) => state.pubsub.publish(topic, payload).await,
        Err(err) => tracing::error!(error = %err, %topic, "could not serialize an event"),
    }
}
