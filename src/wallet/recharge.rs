//! Recharging a wallet through a payment provider. A recharge starts PENDING; the provider
//! confirms it (the sandbox through the `process_wallet_recharge` job, a real provider through
//! its webhook) and only then is the wallet credited, from the provider clearing account,
//! exactly once: the PENDING → SUCCEEDED update is conditional and the credit's idempotency key
//! is the recharge id.

use chrono::Utc;
use entity::{
    ledger_accounts::AccountKind,
    ledger_transfers::TransferKind,
    recharges::{self, RechargeStatus},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait, QueryFilter,
    TransactionTrait as _, sea_query::Expr,
};
use uuid::Uuid;

use super::ledger::{self, PLATFORM, Transfer};
use crate::{
    AppState,
    error::{AppError, AppResult},
    jobs::queue,
    settings::{self, Setting},
};

/// The built-in provider of the embedded mode: it approves every recharge, except amounts
/// ending in 13 paise, which it declines (a test value, like a sandbox card number).
pub const SANDBOX: &str = "sandbox";

/// What the provider said about a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderDecision {
    Succeeded,
    Failed(String),
    /// The provider will tell us through its webhook.
    AwaitWebhook,
}

/// The payment-provider interface. Only the sandbox is built in; a real provider (Razorpay,
/// Stripe) answers `AwaitWebhook` here and confirms through `POST /webhooks/payments/{name}`.
pub fn decide(provider: &str, recharge: &recharges::Model) -> ProviderDecision {
    match provider {
        SANDBOX if recharge.amount % 100 == 13 => {
            ProviderDecision::Failed("declined by the sandbox (amount ends in 13 paise)".into())
        }
        SANDBOX => ProviderDecision::Succeeded,
        _ => ProviderDecision::AwaitWebhook,
    }
}

/// Starts a recharge. The same key with the same amount returns the first recharge; with a
/// different amount it is CONFLICT.
pub async fn request(
    state: &AppState,
    user_id: Uuid,
    amount: i64,
    idempotency_key: &str,
) -> AppResult<recharges::Model> {
    let key = idempotency_key.trim();
    if key.is_empty() || key.len() > 128 {
        return Err(AppError::bad_input(
            "idempotencyKey",
            "must be 1 to 128 characters",
        ));
    }
    let txn = state.db.begin().await?;
    if let Some(existing) = find_by_key(&txn, user_id, key).await? {
        if existing.amount != amount {
            return Err(AppError::Conflict(
                "this idempotency key was already used for a different amount".into(),
            ));
        }
        return Ok(existing);
    }
    let min = settings::service::get(&txn, Setting::MinRechargePaise).await?;
    let max = settings::service::get(&txn, Setting::MaxRechargePaise).await?;
    if amount < min || amount > max {
        return Err(AppError::bad_input(
            "amount",
            format!(
                "a recharge must be between {} and {}",
                crate::money::format_inr(min),
                crate::money::format_inr(max)
            ),
        ));
    }
    let now = Utc::now();
    let recharge = recharges::Model {
        id: crate::db::new_id(),
        user_id,
        amount,
        status: RechargeStatus::Pending,
        provider: SANDBOX.to_owned(),
        idempotency_key: key.to_owned(),
        failure_reason: None,
        created_at: now,
        updated_at: now,
    };
    recharges::Entity::insert(recharges::ActiveModel {
        id: Set(recharge.id),
        user_id: Set(user_id),
        amount: Set(amount),
        status: Set(recharge.status),
        provider: Set(recharge.provider.clone()),
        idempotency_key: Set(recharge.idempotency_key.clone()),
        failure_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    queue::enqueue(
        &txn,
        &super::jobs::ProcessWalletRecharge {
            recharge_id: recharge.id,
        },
    )
    .await?;
    txn.commit().await?;
    state.wake_worker();
    Ok(recharge)
}

async fn find_by_key(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    key: &str,
) -> AppResult<Option<recharges::Model>> {
    Ok(recharges::Entity::find()
        .filter(recharges::Column::UserId.eq(user_id))
        .filter(recharges::Column::IdempotencyKey.eq(key))
        .one(conn)
        .await?)
}

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<recharges::Model>> {
    Ok(recharges::Entity::find_by_id(id).one(conn).await?)
}

/// The `process_wallet_recharge` job: asks the provider and settles the recharge.
pub async fn process(state: &AppState, recharge_id: Uuid) -> anyhow::Result<()> {
    let Some(recharge) = find(&state.db, recharge_id).await? else {
        anyhow::bail!("recharge {recharge_id} does not exist");
    };
    if recharge.status != RechargeStatus::Pending {
        return Ok(());
    }
    let txn = state.db.begin().await?;
    match decide(&recharge.provider, &recharge) {
        ProviderDecision::Succeeded => {
            succeed(&txn, recharge_id).await?;
        }
        ProviderDecision::Failed(reason) => {
            fail(&txn, recharge_id, &reason).await?;
        }
        ProviderDecision::AwaitWebhook => {}
    }
    txn.commit().await?;
    Ok(())
}

/// PENDING → SUCCEEDED and the credit, once. False when the recharge was not pending.
pub async fn succeed(conn: &impl ConnectionTrait, recharge_id: Uuid) -> AppResult<bool> {
    let Some(recharge) = find(conn, recharge_id).await? else {
        return Ok(false);
    };
    let updated = recharges::Entity::update_many()
        .col_expr(
            recharges::Column::Status,
            Expr::value(RechargeStatus::Succeeded),
        )
        .col_expr(recharges::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(recharges::Column::Id.eq(recharge_id))
        .filter(recharges::Column::Status.eq(RechargeStatus::Pending))
        .exec(conn)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(false);
    }
    let clearing = ledger::account(conn, AccountKind::ProviderClearing, PLATFORM).await?;
    let wallet = ledger::account(conn, AccountKind::UserAvailable, recharge.user_id).await?;
    ledger::transfer(
        conn,
        Transfer {
            debit: clearing,
            credit: wallet,
            amount: recharge.amount,
            kind: TransferKind::Recharge,
            reference: format!("recharge:{recharge_id}"),
            idempotency_key: Some(format!("recharge:{recharge_id}")),
            hold_id: None,
        },
    )
    .await?;
    Ok(true)
}

/// PENDING → FAILED. False when the recharge was not pending.
pub async fn fail(conn: &impl ConnectionTrait, recharge_id: Uuid, reason: &str) -> AppResult<bool> {
    let updated = recharges::Entity::update_many()
        .col_expr(
            recharges::Column::Status,
            Expr::value(RechargeStatus::Failed),
        )
        .col_expr(
            recharges::Column::FailureReason,
            Expr::value(reason.chars().take(500).collect::<String>()),
        )
        .col_expr(recharges::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(recharges::Column::Id.eq(recharge_id))
        .filter(recharges::Column::Status.eq(RechargeStatus::Pending))
        .exec(conn)
        .await?;
    Ok(updated.rows_affected == 1)
}
