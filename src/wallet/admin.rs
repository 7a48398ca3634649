//! The support adjustment of a wallet, shared by GraphQL and the operators' console: the ledger
//! transfer and its audit row commit together (a replayed idempotency key writes neither).

use entity::ledger_transfers;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, TransactionTrait as _};
use serde_json::json;
use uuid::Uuid;

use super::escrow;
use crate::{
    AppState,
    audit::{self, Entry},
    auth::Viewer,
    error::{AppError, AppResult},
};

/// Admin: credits (positive `amount`) or debits a user's wallet, with a reason, as one ledger
/// transfer; returns the transfer and the wallet's available account id.
pub async fn adjust_wallet(
    state: &AppState,
    actor: Viewer,
    user_id: Uuid,
    amount: i64,
    reason: &str,
    idempotency_key: &str,
) -> AppResult<(ledger_transfers::Model, Uuid)> {
    let txn = state.db.begin().await?;
    crate::auth::service::active_user(&txn, user_id)
        .await
        .map_err(|_| AppError::bad_input("userId", "no such user"))?;
    let replay = ledger_transfers::Entity::find()
        .filter(ledger_transfers::Column::IdempotencyKey.eq(format!("adjust:{idempotency_key}")))
        .one(&txn)
        .await?
        .is_some();
    let (before, _) = escrow::balances(&txn, user_id).await?;
    let transfer = escrow::adjust(&txn, user_id, amount, reason, idempotency_key).await?;
    let (available, _) = escrow::balances(&txn, user_id).await?;
    if !replay {
        audit::record(
            &txn,
            Entry::new(actor.user_id, "wallet.adjust", "user", user_id)
                .reason(Some(reason))
                .change(
                    json!({ "available": before.balance }),
                    json!({ "available": available.balance, "amount": amount, "transferId": transfer.id }),
                ),
        )
        .await?;
    }
    txn.commit().await?;
    Ok((transfer, available.id))
}

/// Admin: ledger accounts, optionally of one owner and kind, in creation order, with the total.
pub async fn accounts(
    conn: &impl sea_orm::ConnectionTrait,
    owner: Option<Uuid>,
    kind: Option<entity::ledger_accounts::AccountKind>,
    page: &crate::paging::Page,
) -> AppResult<(Vec<entity::ledger_accounts::Model>, i64)> {
    use entity::ledger_accounts as la;
    use sea_orm::Condition;
    let mut filter = Condition::all();
    if let Some(owner) = owner {
        filter = filter.add(la::Column::OwnerId.eq(owner));
    }
    if let Some(kind) = kind {
        filter = filter.add(la::Column::Kind.eq(kind));
    }
    crate::paging::newest_first::<la::Entity>(
        conn,
        filter,
        la::Column::CreatedAt,
        la::Column::Id,
        page,
    )
    .await
}

/// Admin: the transfers into or out of one account, newest first, with the total.
pub async fn account_transfers(
    conn: &impl sea_orm::ConnectionTrait,
    account_id: Uuid,
    page: &crate::paging::Page<crate::paging::SeqCursor>,
) -> AppResult<(Vec<ledger_transfers::Model>, i64)> {
    use sea_orm::{Condition, PaginatorTrait as _, QueryOrder as _, QuerySelect as _};
    let filter = Condition::any()
        .add(ledger_transfers::Column::DebitAccountId.eq(account_id))
        .add(ledger_transfers::Column::CreditAccountId.eq(account_id));
    let total = ledger_transfers::Entity::find()
        .filter(filter.clone())
        .count(conn)
        .await?;
    let mut query = ledger_transfers::Entity::find().filter(filter);
    if let Some(after) = page.after {
        query = query.filter(ledger_transfers::Column::Id.lt(after.0));
    }
    let rows = query
        .order_by_desc(ledger_transfers::Column::Id)
        .limit(page.limit + 1)
        .all(conn)
        .await?;
    Ok((rows, i64::try_from(total).unwrap_or(i64::MAX)))
}
