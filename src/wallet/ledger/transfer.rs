//! One transfer: a debit and a credit, each a conditional update, locked in id order.

use chrono::Utc;
use entity::{
    ledger_accounts::{self},
    ledger_transfers::{self, TransferKind},
};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait as _, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    sea_query::{Expr, ExprTrait as _, Query},
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

use super::accounts::may_go_negative;

/// One movement to record.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub debit: ledger_accounts::Model,
    pub credit: ledger_accounts::Model,
    pub amount: i64,
    pub kind: TransferKind,
    pub reference: String,
    /// Replaying a key returns the first transfer and moves nothing.
    pub idempotency_key: Option<String>,
    pub hold_id: Option<Uuid>,
}

#[derive(FromQueryResult)]
struct BalanceRow {
    balance: i64,
}

/// Records `t` inside the caller's transaction. INSUFFICIENT_FUNDS (and nothing written by this
/// call) when the debit account may not go negative and holds less than the amount.
pub async fn transfer(
    conn: &impl ConnectionTrait,
    t: Transfer,
) -> AppResult<ledger_transfers::Model> {
    if t.amount <= 0 {
        return Err(AppError::bad_input("amount", "must be more than zero"));
    }
    if t.debit.id == t.credit.id {
        return Err(AppError::internal(anyhow::anyhow!(
            "transfer to the same account"
        )));
    }
    if let Some(key) = &t.idempotency_key {
        let existing = ledger_transfers::Entity::find()
            .filter(ledger_transfers::Column::IdempotencyKey.eq(key.as_str()))
            .one(conn)
            .await?;
        if let Some(existing) = existing {
            let same = existing.amount == t.amount
                && existing.debit_account_id == t.debit.id
                && existing.credit_account_id == t.credit.id
                && existing.kind == t.kind;
            if !same {
                return Err(AppError::Conflict(
                    "this idempotency key was already used for a different request".into(),
                ));
            }
            return Ok(existing);
        }
    }
    let debit_first = t.debit.id < t.credit.id;
    let (debit_after, credit_after) = if debit_first {
        let d = apply(conn, &t.debit, -t.amount).await?;
        let c = apply(conn, &t.credit, t.amount).await?;
        (d, c)
    } else {
        let c = apply(conn, &t.credit, t.amount).await?;
        let d = apply(conn, &t.debit, -t.amount).await?;
        (d, c)
    };
    let inserted = ledger_transfers::Entity::insert(ledger_transfers::ActiveModel {
        id: NotSet,
        debit_account_id: Set(t.debit.id),
        credit_account_id: Set(t.credit.id),
        amount: Set(t.amount),
        kind: Set(t.kind),
        reference: Set(t.reference),
        idempotency_key: Set(t.idempotency_key),
        hold_id: Set(t.hold_id),
        debit_balance_after: Set(debit_after),
        credit_balance_after: Set(credit_after),
        created_at: Set(Utc::now()),
    })
    .exec_with_returning(conn)
    .await?;
    Ok(inserted)
}

/// Adds `delta` to an account's balance and returns the new balance. A negative delta on an
/// account that may not go negative only applies if the balance covers it.
async fn apply(
    conn: &impl ConnectionTrait,
    account: &ledger_accounts::Model,
    delta: i64,
) -> AppResult<i64> {
    let guarded = delta < 0 && !may_go_negative(account.kind);
    let balance = || Expr::col(ledger_accounts::Column::Balance);
    let mut update = Query::update();
    update
        .table(ledger_accounts::Entity)
        .value(ledger_accounts::Column::Balance, balance().add(delta))
        .and_where(ledger_accounts::Column::Id.eq(account.id))
        .returning_col(ledger_accounts::Column::Balance);
    if guarded {
        update.and_where(balance().add(delta).gte(0i64));
    }
    let stmt = conn.get_database_backend().build(&update);
    match BalanceRow::find_by_statement(stmt).one(conn).await? {
        Some(row) => Ok(row.balance),
        None if guarded => Err(AppError::InsufficientFunds(
            "the balance is too low for this".into(),
        )),
        None => Err(AppError::internal(anyhow::anyhow!(
            "ledger account {} missing",
            account.id
        ))),
    }
}
