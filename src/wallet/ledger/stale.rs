//! Stale holds, for `ledgerCheck`: money still held for something that is already over. An
//! order's hold must be voided in the same transaction that cancels or refunds it, and released
//! by the `release_held_amount` job its completion queues; a payout's money must leave its
//! payout-held account (a vendor's or a user's) in the transaction that pays or rejects it. When that did not
//! happen (a release job that went DEAD, a bug), the money sits held and no balance check can
//! see it, because the held balance still equals the sum of the open holds.

use entity::{
    jobs::{self, JobStatus},
    payouts,
};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, FromQueryResult, QueryFilter as _,
    Statement, sea_query::Query,
};
use uuid::Uuid;

use crate::error::AppResult;

/// Money held for an order or a payout that is settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaleHold {
    /// A HELD hold on a COMPLETED (with no release queued or running), CANCELLED or REFUNDED
    /// order.
    Order {
        hold_id: Uuid,
        order_id: Uuid,
        order_status: String,
        amount: i64,
    },
    /// A PAID, REJECTED or REVERSED payout whose amount is still in its payout-held account.
    Payout {
        payout_id: Uuid,
        payout_status: String,
        amount: i64,
    },
}

impl std::fmt::Display for StaleHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Order {
                hold_id,
                order_id,
                order_status,
                amount,
            } => write!(
                f,
                "hold {hold_id} still holds {amount} paise for order {order_id}, which is {order_status}"
            ),
            Self::Payout {
                payout_id,
                payout_status,
                amount,
            } => write!(
                f,
                "payout {payout_id} is {payout_status} but {amount} paise of it are still held"
            ),
        }
    }
}

#[derive(FromQueryResult)]
struct OrderHold {
    hold_id: Uuid,
    order_id: Uuid,
    order_status: String,
    amount: i64,
}

#[derive(FromQueryResult)]
struct PayoutHeld {
    reference: String,
    held: i64,
}

#[derive(FromQueryResult)]
struct PayoutRow {
    id: Uuid,
    status: String,
}

/// Every stale hold, orders first.
pub async fn find_all(conn: &impl ConnectionTrait) -> AppResult<Vec<StaleHold>> {
    let mut found = stale_order_holds(conn).await?;
    found.extend(stale_payouts(conn).await?);
    Ok(found)
}

async fn stale_order_holds(conn: &impl ConnectionTrait) -> AppResult<Vec<StaleHold>> {
    let backend = conn.get_database_backend();
    let candidates = OrderHold::find_by_statement(Statement::from_string(
        backend,
        "SELECT h.id AS hold_id, o.id AS order_id, o.status AS order_status, h.amount AS amount \
         FROM holds h JOIN orders o ON o.hold_id = h.id \
         WHERE h.status = 'HELD' AND o.status IN ('COMPLETED', 'CANCELLED', 'REFUNDED') \
         ORDER BY o.id",
    ))
    .all(conn)
    .await?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    // A completed order's release is queued in the transaction that completed it: until that
    // job has run (or while it waits for a retry) the hold is rightly still HELD.
    let releasing: Vec<Uuid> = jobs::Entity::find()
        .filter(jobs::Column::Kind.eq("release_held_amount"))
        .filter(jobs::Column::Status.is_in([JobStatus::Pending, JobStatus::Running]))
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|job| {
            // The orders' `release_held_amount` payload; the wallet stands below the orders
            // code, so it reads the one field it needs instead of naming the job type.
            job.payload
                .get("order_id")
                .and_then(|id| id.as_str())
                .and_then(|id| id.parse::<Uuid>().ok())
        })
        .collect();
    Ok(candidates
        .into_iter()
        .filter(|c| !(c.order_status == "COMPLETED" && releasing.contains(&c.order_id)))
        .map(|c| StaleHold::Order {
            hold_id: c.hold_id,
            order_id: c.order_id,
            order_status: c.order_status,
            amount: c.amount,
        })
        .collect())
}

async fn stale_payouts(conn: &impl ConnectionTrait) -> AppResult<Vec<StaleHold>> {
    let backend = conn.get_database_backend();
    // What each payout still has in a payout-held account: normally only open payouts do.
    let held = PayoutHeld::find_by_statement(Statement::from_string(
        backend,
        "SELECT t.reference AS reference, \
           CAST(SUM(CASE WHEN t.credit_account_id = a.id THEN t.amount ELSE -t.amount END) AS BIGINT) AS held \
         FROM ledger_transfers t JOIN ledger_accounts a \
           ON a.kind IN ('VENDOR_PAYOUT_HELD', 'USER_PAYOUT_HELD') AND (a.id = t.credit_account_id OR a.id = t.debit_account_id) \
         WHERE t.reference LIKE 'payout:%' \
         GROUP BY t.reference \
         HAVING SUM(CASE WHEN t.credit_account_id = a.id THEN t.amount ELSE -t.amount END) <> 0",
    ))
    .all(conn)
    .await?;
    let mut found = Vec::new();
    for row in held {
        let Some(id) = row
            .reference
            .strip_prefix("payout:")
            .and_then(|id| Uuid::parse_str(id).ok())
        else {
            continue;
        };
        let payout = PayoutRow::find_by_statement(
            backend.build(
                Query::select()
                    .columns([payouts::Column::Id, payouts::Column::Status])
                    .from(payouts::Entity)
                    .and_where(payouts::Column::Id.eq(id)),
            ),
        )
        .one(conn)
        .await?;
        if let Some(payout) =
            payout.filter(|p| matches!(p.status.as_str(), "PAID" | "REJECTED" | "REVERSED"))
        {
            found.push(StaleHold::Payout {
                payout_id: payout.id,
                payout_status: payout.status,
                amount: row.held,
            });
        }
    }
    Ok(found)
}
