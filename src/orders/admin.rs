//! Admin moves of an order (the refund above all), shared by the admin GraphQL fields and the
//! operators' console. The transition and its audit row commit together.

use entity::{order_status_history::OrderActor, orders};
use sea_orm::TransactionTrait as _;
use serde_json::json;
use uuid::Uuid;

use super::{service, state};
use crate::{
    AppState,
    audit::{self, Entry},
    auth::Viewer,
    error::AppResult,
};

/// Admin: moves an order to `to` as the platform (REFUNDED from any state before COMPLETED:
/// the hold is voided and the stock restored), with an optional note or reason.
pub async fn move_order(
    app: &AppState,
    actor: Viewer,
    order_id: Uuid,
    to: orders::OrderStatus,
    note: Option<String>,
) -> AppResult<orders::Model> {
    let txn = app.db.begin().await?;
    let before = service::find(&txn, order_id).await?;
    let order = service::transition(
        &txn,
        order_id,
        to,
        OrderActor::Admin,
        Some(actor.user_id),
        note.clone(),
    )
    .await?;
    let action = if to == orders::OrderStatus::Refunded {
        "order.refund"
    } else {
        "order.set_status"
    };
    audit::record(
        &txn,
        Entry::new(actor.user_id, action, "order", order_id)
            .reason(note.as_deref())
            .change(
                json!({ "status": state::name(before.status) }),
                json!({ "status": state::name(order.status) }),
            ),
    )
    .await?;
    txn.commit().await?;
    app.wake_worker();
    Ok(order)
}

/// Admin: refunds an order that is not completed yet; the money and the stock are returned.
pub async fn refund_order(
    app: &AppState,
    actor: Viewer,
    order_id: Uuid,
    reason: Option<String>,
) -> AppResult<orders::Model> {
    move_order(app, actor, order_id, orders::OrderStatus::Refunded, reason).await
}

/// What an admin searches orders by; every field given narrows the list.
#[derive(Debug, Clone, Default)]
pub struct OrderSearch {
    /// Part of the order number.
    pub number: Option<String>,
    /// Part of the buyer's email or name.
    pub buyer: Option<String>,
    /// Part of the vendor's business name.
    pub vendor: Option<String>,
    pub status: Option<orders::OrderStatus>,
    /// Placed at or after.
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Placed before.
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

fn given(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// Admin: orders matching `search`, newest first, with the total.
pub async fn search_orders(
    conn: &impl sea_orm::ConnectionTrait,
    search: &OrderSearch,
    page: &crate::paging::Page,
) -> AppResult<(Vec<orders::Model>, i64)> {
    use entity::{users, vendors};
    use sea_orm::{ColumnTrait as _, Condition, sea_query::Query};

    use crate::accounts::admin::contains_ci;

    let mut filter = Condition::all();
    if let Some(number) = given(&search.number) {
        filter = filter.add(contains_ci(orders::Column::Number, number));
    }
    if let Some(buyer) = given(&search.buyer) {
        filter = filter.add(
            orders::Column::BuyerId.in_subquery(
                Query::select()
                    .column(users::Column::Id)
                    .from(users::Entity)
                    .cond_where(
                        Condition::any()
                            .add(contains_ci(users::Column::Email, buyer))
                            .add(contains_ci(users::Column::FullName, buyer)),
                    )
                    .to_owned(),
            ),
        );
    }
    if let Some(vendor) = given(&search.vendor) {
        filter = filter.add(
            orders::Column::VendorId.in_subquery(
                Query::select()
                    .column(vendors::Column::Id)
                    .from(vendors::Entity)
                    .cond_where(contains_ci(vendors::Column::BusinessName, vendor))
                    .to_owned(),
            ),
        );
    }
    if let Some(status) = search.status {
        filter = filter.add(orders::Column::Status.eq(status));
    }
    if let Some(from) = search.from {
        filter = filter.add(orders::Column::CreatedAt.gte(from));
    }
    if let Some(to) = search.to {
        filter = filter.add(orders::Column::CreatedAt.lt(to));
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
