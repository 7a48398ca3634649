//! Escrow: hold (available → held), release (held → payee, commission → platform, any rest back
//! to available), void (held → available). Each hold is settled exactly once: the settling
//! update is conditional on the hold still being HELD, so a second settlement is CONFLICT and
//! moves nothing.

use std::collections::HashMap;

use chrono::{SubsecRound as _, Utc};
use entity::{
    holds::{self, HoldStatus},
    ledger_accounts::{self, AccountKind},
    ledger_transfers::TransferKind,
};
use sea_orm::{ColumnTrait as _, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use super::ledger::{self, LockedTransfer, PLATFORM, Transfer, Wallet};
use crate::error::{AppError, AppResult};

/// Commission on `amount` at `bps` basis points, rounded down to the paisa. A rate outside
/// 0..=10,000 bps (more than the whole amount) or a result that does not fit is an error, never
/// a silent zero: a wrong commission would be paid out and could not be taken back.
pub fn commission(amount: i64, bps: i64) -> AppResult<i64> {
    if !(0..=10_000).contains(&bps) {
        return Err(AppError::internal(anyhow::anyhow!(
            "commission rate {bps} bps is outside 0..=10000"
        )));
    }
    i64::try_from(i128::from(amount) * i128::from(bps) / 10_000).map_err(|_| {
        AppError::internal(anyhow::anyhow!(
            "commission of {bps} bps on {amount} paise overflows"
        ))
    })
}

/// Moves `amount` of `user_id`'s available balance into held, as a new hold, inside the
/// caller's transaction. INSUFFICIENT_FUNDS when the available balance is too low.
///
/// The wallet is locked and read by one statement ([`ledger::lock_wallets`], in the lock order
/// every transfer uses), then moved like one order of a batch ([`hold_locked`]): one update of
/// both balances, the transfer and the hold row: four round trips where reading each account and
/// updating each balance on its own took six.
pub async fn hold(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    amount: i64,
    reference: &str,
) -> AppResult<holds::Model> {
    if amount <= 0 {
        return Err(AppError::bad_input("amount", "must be more than zero"));
    }
    let wallets = ledger::lock_wallets(conn, &[user_id]).await?;
    let hold = NewHold {
        user_id,
        amount,
        reference: reference.to_owned(),
    };
    hold_locked(conn, &wallets, vec![hold])
        .await
        .map_err(|err| match err {
            AppError::InsufficientFunds(_) => AppError::InsufficientFunds(
                "your wallet balance is too low; recharge it first".into(),
            ),
            other => other,
        })?
        .pop()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("a hold was not recorded")))
}

/// One hold of [`hold_locked`]: `amount` of `user_id`'s available balance, for `reference`.
#[derive(Debug, Clone)]
pub(crate) struct NewHold {
    pub user_id: Uuid,
    pub amount: i64,
    pub reference: String,
}

/// New holds on wallets the caller locked with [`ledger::lock_wallets`] (`wallets`, with the
/// balances read under the lock), as if placed one after another in order, with one transfer
/// each through [`ledger::record_locked`] and one multi-row insert of the hold rows. The caller
/// has checked that every wallet covers its holds; if one does not, the whole call fails
/// (INSUFFICIENT_FUNDS) and the caller must roll back.
pub(crate) async fn hold_locked(
    conn: &impl ConnectionTrait,
    wallets: &HashMap<Uuid, Wallet>,
    new: Vec<NewHold>,
) -> AppResult<Vec<holds::Model>> {
    let mut accounts = HashMap::new();
    for wallet in wallets.values() {
        accounts.insert(wallet.available.id, wallet.available.clone());
        accounts.insert(wallet.held.id, wallet.held.clone());
    }
    let now = Utc::now().trunc_subsecs(6);
    let mut models = Vec::with_capacity(new.len());
    let mut transfers = Vec::with_capacity(new.len());
    for hold in new {
        let wallet = wallets.get(&hold.user_id).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("wallet of {} not locked", hold.user_id))
        })?;
        let id = crate::db::new_id();
        transfers.push(LockedTransfer {
            debit: wallet.available.id,
            credit: wallet.held.id,
            amount: hold.amount,
            kind: TransferKind::Hold,
            reference: hold.reference.clone(),
            hold_id: Some(id),
        });
        models.push(holds::Model {
            id,
            user_id: hold.user_id,
            amount: hold.amount,
            status: HoldStatus::Held,
            reference: hold.reference,
            released_amount: 0,
            created_at: now,
            settled_at: None,
        });
    }
    ledger::record_locked(conn, &accounts, transfers).await?;
    crate::db::insert_chunked::<holds::Entity>(
        conn,
        models.iter().cloned().map(holds::ActiveModel::from),
    )
    .await?;
    Ok(models)
}

/// [`hold_locked`] for holds whose caller already decided, against the same locked balances,
/// that every wallet covers them (a batch of orders or bookings): one hold per entry, in
/// order, or an error; a refusal here means the decision was wrong, so it is INTERNAL and the
/// caller rolls back.
pub(crate) async fn hold_decided(
    conn: &impl ConnectionTrait,
    wallets: &HashMap<Uuid, Wallet>,
    new: Vec<NewHold>,
) -> AppResult<Vec<holds::Model>> {
    let count = new.len();
    let holds = hold_locked(conn, wallets, new)
        .await
        .map_err(|err| match err {
            AppError::InsufficientFunds(_) => AppError::internal(anyhow::anyhow!(
                "a batched hold was refused after being decided: {err:?}"
            )),
            other => other,
        })?;
    if holds.len() != count {
        return Err(AppError::internal(anyhow::anyhow!(
            "asked for {count} holds, got {}",
            holds.len()
        )));
    }
    Ok(holds)
}

/// Releases `release_amount` of a hold to `payee` (less `commission`, which goes to platform
/// revenue) and returns the rest of the hold to the buyer's available balance. A full release
/// has `release_amount == hold.amount`.
pub async fn release(
    conn: &impl ConnectionTrait,
    hold_id: Uuid,
    payee: &ledger_accounts::Model,
    release_amount: i64,
    commission: i64,
) -> AppResult<holds::Model> {
    let hold = find(conn, hold_id).await?;
    if release_amount <= 0 || release_amount > hold.amount {
        return Err(AppError::bad_input(
            "amount",
            "a release must be within the held amount",
        ));
    }
    if commission < 0 || commission > release_amount {
        return Err(AppError::bad_input(
            "commission",
            "must be within the released amount",
        ));
    }
    settle(conn, &hold, HoldStatus::Released, release_amount).await?;
    let held = ledger::account(conn, AccountKind::UserHeld, hold.user_id).await?;
    let reference = format!("hold:{hold_id}");
    let net = release_amount - commission;
    if net > 0 {
        move_from_hold(
            conn,
            &hold,
            held.clone(),
            payee.clone(),
            net,
            TransferKind::Release,
            &reference,
        )
        .await?;
    }
    if commission > 0 {
        let revenue = ledger::account(conn, AccountKind::PlatformRevenue, PLATFORM).await?;
        move_from_hold(
            conn,
            &hold,
            held.clone(),
            revenue,
            commission,
            TransferKind::Commission,
            &reference,
        )
        .await?;
    }
    let rest = hold.amount - release_amount;
    if rest > 0 {
        let available = ledger::account(conn, AccountKind::UserAvailable, hold.user_id).await?;
        move_from_hold(
            conn,
            &hold,
            held,
            available,
            rest,
            TransferKind::Refund,
            &reference,
        )
        .await?;
    }
    Ok(hold)
}

/// Returns the whole hold to the buyer's available balance.
pub async fn void(conn: &impl ConnectionTrait, hold_id: Uuid) -> AppResult<holds::Model> {
    let hold = find(conn, hold_id).await?;
    settle(conn, &hold, HoldStatus::Voided, 0).await?;
    let held = ledger::account(conn, AccountKind::UserHeld, hold.user_id).await?;
    let available = ledger::account(conn, AccountKind::UserAvailable, hold.user_id).await?;
    move_from_hold(
        conn,
        &hold,
        held,
        available,
        hold.amount,
        TransferKind::Refund,
        &format!("hold:{hold_id}"),
    )
    .await?;
    Ok(hold)
}

async fn move_from_hold(
    conn: &impl ConnectionTrait,
    hold: &holds::Model,
    from: ledger_accounts::Model,
    to: ledger_accounts::Model,
    amount: i64,
    kind: TransferKind,
    reference: &str,
) -> AppResult<()> {
    ledger::transfer(
        conn,
        Transfer {
            debit: from,
            credit: to,
            amount,
            kind,
            reference: reference.to_owned(),
            idempotency_key: None,
            hold_id: Some(hold.id),
        },
    )
    .await?;
    Ok(())
}

pub async fn find(conn: &impl ConnectionTrait, hold_id: Uuid) -> AppResult<holds::Model> {
    holds::Entity::find_by_id(hold_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("hold"))
}

/// Marks a HELD hold settled, exactly once.
async fn settle(
    conn: &impl ConnectionTrait,
    hold: &holds::Model,
    status: HoldStatus,
    released_amount: i64,
) -> AppResult<()> {
    let settled = holds::Entity::update_many()
        .col_expr(holds::Column::Status, Expr::value(status))
        .col_expr(holds::Column::ReleasedAmount, Expr::value(released_amount))
        .col_expr(holds::Column::SettledAt, Expr::value(Utc::now()))
        .filter(holds::Column::Id.eq(hold.id))
        .filter(holds::Column::Status.eq(HoldStatus::Held))
        .exec(conn)
        .await?;
    if settled.rows_affected == 0 {
        return Err(AppError::Conflict(
            "this payment was already settled".into(),
        ));
    }
    Ok(())
}

/// Balances of a user's wallet: (available, held).
pub async fn balances(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
) -> AppResult<(ledger_accounts::Model, ledger_accounts::Model)> {
    let available = ledger::account(conn, AccountKind::UserAvailable, user_id).await?;
    let held = ledger::account(conn, AccountKind::UserHeld, user_id).await?;
    Ok((available, held))
}

/// A support adjustment: a positive `amount` credits the user's wallet from the platform's
/// adjustment account, a negative one debits it (never below zero). Idempotent on `key`.
pub async fn adjust(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    amount: i64,
    reason: &str,
    key: &str,
) -> AppResult<entity::ledger_transfers::Model> {
    if amount == 0 {
        return Err(AppError::bad_input("amount", "must not be zero"));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::bad_input("reason", "a reason is required"));
    }
    let wallet = ledger::account(conn, AccountKind::UserAvailable, user_id).await?;
    let platform = ledger::account(conn, AccountKind::PlatformAdjustments, PLATFORM).await?;
    let (debit, credit) = if amount > 0 {
        (platform, wallet)
    } else {
        (wallet, platform)
    };
    ledger::transfer(
        conn,
        Transfer {
            debit,
            credit,
            amount: amount.abs(),
            kind: TransferKind::Adjustment,
            reference: format!(
                "adjustment: {}",
                reason.chars().take(200).collect::<String>()
            ),
            idempotency_key: Some(format!("adjust:{key}")),
            hold_id: None,
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::commission;

    #[test]
    fn commission_rounds_down_to_the_paisa() {
        assert_eq!(commission(10_000, 500).ok(), Some(500));
        assert_eq!(commission(999, 500).ok(), Some(49));
        assert_eq!(commission(i64::MAX, 10_000).ok(), Some(i64::MAX));
        assert_eq!(commission(12_345, 0).ok(), Some(0));
    }

    #[test]
    fn a_commission_that_would_overflow_is_an_error_not_zero() {
        assert!(commission(i64::MAX, 10_001).is_err());
        assert!(commission(i64::MAX, i64::MAX).is_err());
        assert!(commission(1_000, -1).is_err());
    }
}
