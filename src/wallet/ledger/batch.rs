//! Many transfers between wallets locked once: one update per account for its net movement.

use std::collections::HashMap;

use chrono::Utc;
use entity::{
    ledger_accounts::{self, AccountKind},
    ledger_transfers::{self, TransferKind},
};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait as _, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder as _,
    QuerySelect as _,
};
use uuid::Uuid;

use crate::{
    db::bulk::{Move, add_by_id},
    error::{AppError, AppResult},
};

use super::accounts::{CURRENCY, create_accounts, may_go_negative};

/// A user's two wallet accounts.
#[derive(Debug, Clone)]
pub(crate) struct Wallet {
    pub available: ledger_accounts::Model,
    pub held: ledger_accounts::Model,
}

/// The wallet accounts (available and held) of every one of `owners`, created when missing, and
/// locked until the caller's transaction ends: `FOR UPDATE` in id order on PostgreSQL (the order
/// [`transfer`] locks in, so batches and single transfers cannot deadlock); SQLite has one
/// writer. The balances returned are the ones [`record_locked`] starts from.
pub(crate) async fn lock_wallets(
    conn: &impl ConnectionTrait,
    owners: &[Uuid],
) -> AppResult<HashMap<Uuid, Wallet>> {
    let mut owners = owners.to_vec();
    owners.sort();
    owners.dedup();
    if owners.is_empty() {
        return Ok(HashMap::new());
    }
    let kinds = [AccountKind::UserAvailable, AccountKind::UserHeld];
    let backend = conn.get_database_backend();
    let lock = || {
        let query = ledger_accounts::Entity::find()
            .filter(ledger_accounts::Column::OwnerId.is_in(owners.clone()))
            .filter(ledger_accounts::Column::Kind.is_in(kinds))
            .filter(ledger_accounts::Column::Currency.eq(CURRENCY))
            .order_by_asc(ledger_accounts::Column::Id);
        match backend {
            DbBackend::Postgres => query.lock_exclusive(),
            _ => query,
        }
    };
    let mut rows = lock().all(conn).await?;
    if rows.len() < owners.len() * kinds.len() {
        // First holds of new wallets: create what is missing in one statement, lock again.
        let missing: Vec<(AccountKind, Uuid)> = owners
            .iter()
            .flat_map(|owner| kinds.map(|kind| (kind, *owner)))
            .filter(|(kind, owner)| !rows.iter().any(|a| a.owner_id == *owner && a.kind == *kind))
            .collect();
        create_accounts(conn, &missing).await?;
        rows = lock().all(conn).await?;
    }
    let mut available = HashMap::new();
    let mut held = HashMap::new();
    for row in rows {
        match row.kind {
            AccountKind::UserAvailable => available.insert(row.owner_id, row),
            _ => held.insert(row.owner_id, row),
        };
    }
    owners
        .into_iter()
        .map(
            |owner| match (available.remove(&owner), held.remove(&owner)) {
                (Some(available), Some(held)) => Ok((owner, Wallet { available, held })),
                _ => Err(AppError::internal(anyhow::anyhow!(
                    "the wallet accounts of {owner} are missing"
                ))),
            },
        )
        .collect()
}

/// One movement between accounts the caller locked (see [`record_locked`]).
#[derive(Debug, Clone)]
pub(crate) struct LockedTransfer {
    pub debit: Uuid,
    pub credit: Uuid,
    pub amount: i64,
    pub kind: TransferKind,
    pub reference: String,
    pub hold_id: Option<Uuid>,
}

/// Records `transfers` between accounts the caller holds locked, exactly as if they were recorded
/// one after another in the given order. `accounts` has every account involved with its balance
/// as read under the lock ([`lock_wallets`]). The caller has already decided that every debit is
/// covered; this checks it again (INSUFFICIENT_FUNDS, or INTERNAL for anything else wrong), and
/// then changes each account by ONE update for its net movement (checked against the balance it
/// must leave) and inserts the transfers with multi-row inserts, each with the balances it leaves
/// behind, so the `balance_after` chain of every account stays exact. Any `Err` means the caller
/// must roll back: something may have been written.
pub(crate) async fn record_locked(
    conn: &impl ConnectionTrait,
    accounts: &HashMap<Uuid, ledger_accounts::Model>,
    transfers: Vec<LockedTransfer>,
) -> AppResult<()> {
    let missing = |id: Uuid| AppError::internal(anyhow::anyhow!("ledger account {id} not locked"));
    let mut running: HashMap<Uuid, i64> = HashMap::new();
    let mut rows = Vec::with_capacity(transfers.len());
    let now = Utc::now();
    for t in transfers {
        if t.amount <= 0 {
            return Err(AppError::bad_input("amount", "must be more than zero"));
        }
        if t.debit == t.credit {
            return Err(AppError::internal(anyhow::anyhow!(
                "transfer to the same account"
            )));
        }
        let debit = accounts.get(&t.debit).ok_or_else(|| missing(t.debit))?;
        let credit = accounts.get(&t.credit).ok_or_else(|| missing(t.credit))?;
        let too_large = || AppError::internal(anyhow::anyhow!("a balance would overflow"));
        let debit_after = running
            .get(&debit.id)
            .copied()
            .unwrap_or(debit.balance)
            .checked_sub(t.amount)
            .ok_or_else(too_large)?;
        if debit_after < 0 && !may_go_negative(debit.kind) {
            return Err(AppError::InsufficientFunds(
                "the balance is too low for this".into(),
            ));
        }
        let credit_after = running
            .get(&credit.id)
            .copied()
            .unwrap_or(credit.balance)
            .checked_add(t.amount)
            .ok_or_else(too_large)?;
        running.insert(debit.id, debit_after);
        running.insert(credit.id, credit_after);
        rows.push(ledger_transfers::ActiveModel {
            id: NotSet,
            debit_account_id: Set(debit.id),
            credit_account_id: Set(credit.id),
            amount: Set(t.amount),
            kind: Set(t.kind),
            reference: Set(t.reference),
            idempotency_key: Set(None),
            hold_id: Set(t.hold_id),
            debit_balance_after: Set(debit_after),
            credit_balance_after: Set(credit_after),
            created_at: Set(now),
        });
    }
    let mut changed: Vec<Move> = running
        .iter()
        .filter_map(|(id, after)| {
            let before = accounts.get(id)?.balance;
            (*after != before).then_some(Move {
                id: *id,
                delta: *after - before,
                expected: *after,
            })
        })
        .collect();
    changed.sort_by_key(|m| m.id);
    add_by_id(
        conn,
        "ledger_accounts",
        "balance",
        &changed,
        &[],
        "ledger accounts",
    )
    .await?;
    crate::db::insert_chunked::<ledger_transfers::Entity>(conn, rows).await?;
    Ok(())
}
