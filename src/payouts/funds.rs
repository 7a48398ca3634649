//! Where a payout's money is, whatever its source: the ledger accounts a payout moves between and
//! its three movements, each one ledger transfer in the caller's transaction with a key derived
//! from the payout id (so each happens at most once):
//!
//! | source | drawn from (and returned to) | waits in | owner |
//! | --- | --- | --- | --- |
//! | EARNINGS | VENDOR_EARNINGS | VENDOR_PAYOUT_HELD | the vendor |
//! | WALLET | USER_AVAILABLE | USER_PAYOUT_HELD | the user |
//!
//! [`reserve`] (source → payout-held, a conditional debit: never more than the source holds),
//! [`give_back`] (payout-held, or provider clearing for a payout reversed after it was paid, →
//! source), [`pay`] (payout-held → provider clearing). USER_PAYOUT_HELD is not USER_HELD: that
//! one is escrow, and must equal the user's open holds.

use entity::{
    ledger_accounts::{self, AccountKind},
    ledger_transfers::TransferKind,
    payouts::{self, PayoutSource},
};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    wallet::ledger::{self, PLATFORM, Transfer},
};

/// The source account's kind, its payout-held account's kind, and their owner.
fn accounts_of(payout: &payouts::Model) -> AppResult<(AccountKind, AccountKind, Uuid)> {
    match (payout.source, payout.vendor_id) {
        (PayoutSource::Earnings, Some(vendor)) => Ok((
            AccountKind::VendorEarnings,
            AccountKind::VendorPayoutHeld,
            vendor,
        )),
        (PayoutSource::Wallet, None) => Ok((
            AccountKind::UserAvailable,
            AccountKind::UserPayoutHeld,
            payout.user_id,
        )),
        _ => Err(AppError::internal(anyhow::anyhow!(
            "payout {} has source {:?} and vendor {:?}",
            payout.id,
            payout.source,
            payout.vendor_id
        ))),
    }
}

/// The account `payout` is drawn from and returned to.
pub async fn source_account(
    conn: &impl ConnectionTrait,
    payout: &payouts::Model,
) -> AppResult<ledger_accounts::Model> {
    let (source, _, owner) = accounts_of(payout)?;
    ledger::account(conn, source, owner).await
}

/// The account `payout`'s money waits in until it is paid, rejected or reversed.
pub async fn held_account(
    conn: &impl ConnectionTrait,
    payout: &payouts::Model,
) -> AppResult<ledger_accounts::Model> {
    let (_, held, owner) = accounts_of(payout)?;
    ledger::account(conn, held, owner).await
}

/// What the money goes back to, as the user reads it: "earnings" or "wallet".
pub fn home(payout: &payouts::Model) -> &'static str {
    match payout.source {
        PayoutSource::Earnings => "earnings",
        PayoutSource::Wallet => "wallet",
    }
}

fn reference(payout: &payouts::Model) -> String {
    format!("payout:{}", payout.id)
}

/// Reserves a new payout's amount: source → payout-held. INSUFFICIENT_FUNDS (and nothing moved)
/// when the source holds less. In a wallet's history this is the PAYOUT row.
pub async fn reserve(conn: &impl ConnectionTrait, payout: &payouts::Model) -> AppResult<()> {
    let kind = match payout.source {
        PayoutSource::Earnings => TransferKind::Hold,
        PayoutSource::Wallet => TransferKind::Payout,
    };
    ledger::transfer(
        conn,
        Transfer {
            debit: source_account(conn, payout).await?,
            credit: held_account(conn, payout).await?,
            amount: payout.amount,
            kind,
            reference: reference(payout),
            idempotency_key: Some(format!("payout:{}:request", payout.id)),
            hold_id: None,
        },
    )
    .await
    .map_err(|err| match (err, payout.source) {
        (AppError::InsufficientFunds(_), PayoutSource::Earnings) => AppError::InsufficientFunds(
            "that is more than your earnings available for payout".into(),
        ),
        (AppError::InsufficientFunds(_), PayoutSource::Wallet) => {
            AppError::InsufficientFunds("that is more than your available wallet balance".into())
        }
        (other, _) => other,
    })?;
    Ok(())
}

/// Where the money of a payout being given back is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Now {
    /// Still in its payout-held account (rejected, or returned before it was paid).
    Held,
    /// With the provider (reversed after it was paid).
    Clearing,
}

/// Gives a rejected or reversed payout's amount back to its source, from where it is `now`;
/// `step` names the movement in its idempotency key (`reject`, `reversed`).
pub async fn give_back(
    conn: &impl ConnectionTrait,
    payout: &payouts::Model,
    now: Now,
    step: &str,
) -> AppResult<()> {
    let debit = match now {
        Now::Held => held_account(conn, payout).await?,
        Now::Clearing => ledger::account(conn, AccountKind::ProviderClearing, PLATFORM).await?,
    };
    ledger::transfer(
        conn,
        Transfer {
            debit,
            credit: source_account(conn, payout).await?,
            amount: payout.amount,
            kind: TransferKind::Refund,
            reference: reference(payout),
            idempotency_key: Some(format!("payout:{}:{step}", payout.id)),
            hold_id: None,
        },
    )
    .await?;
    Ok(())
}

/// Pays a payout out: payout-held → provider clearing.
pub async fn pay(conn: &impl ConnectionTrait, payout: &payouts::Model) -> AppResult<()> {
    ledger::transfer(
        conn,
        Transfer {
            debit: held_account(conn, payout).await?,
            credit: ledger::account(conn, AccountKind::ProviderClearing, PLATFORM).await?,
            amount: payout.amount,
            kind: TransferKind::Payout,
            reference: reference(payout),
            idempotency_key: Some(format!("payout:{}:paid", payout.id)),
            hold_id: None,
        },
    )
    .await?;
    Ok(())
}
