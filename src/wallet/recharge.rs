//! Recharging a wallet through a payment provider. A recharge starts PENDING with an order at
//! the provider (`PAYMENT_PROVIDER`); the wallet is credited only from the provider's proof:
//! a verified Checkout signature (`confirmRecharge`), a verified webhook, the provider's answer
//! to a reconciliation query, or (development only) the sandbox's own decision. Every proof goes
//! through [`settle_recharge`], which credits from the provider clearing account exactly once:
//! the status update is conditional and the credit's idempotency key is the recharge id. A proof
//! whose amount or currency differs from the recharge credits nothing.

use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use entity::{
    ledger_accounts::AccountKind,
    ledger_transfers::TransferKind,
    recharges::{self, RechargeStatus},
};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder as _, QuerySelect as _,
    TransactionTrait as _, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    ledger::{self, CURRENCY, PLATFORM, Transfer},
    providers::{PaymentOutcome, PaymentProof, ProofSource, sandbox},
};
use crate::{
    AppState,
    error::{AppError, AppResult},
    jobs::queue,
    settings::{self, Setting},
};

/// The built-in provider of the embedded mode (see `providers::sandbox`).
pub const SANDBOX: &str = sandbox::NAME;

/// A recharge with no payment this long after it started is FAILED (expired).
pub const EXPIRE_AFTER: Duration = Duration::days(1);

/// Starts a recharge with the configured provider. The same key with the same amount returns
/// the first recharge (creating its provider order if that failed the first time); with a
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
    let provider = state
        .providers
        .for_new_recharges()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no payment provider is configured")))?;
    let txn = state.db.begin().await?;
    if let Some(existing) = find_by_key(&txn, user_id, key).await? {
        if existing.amount != amount {
            return Err(AppError::Conflict(
                "this idempotency key was already used for a different amount".into(),
            ));
        }
        drop(txn);
        return open_checkout(state, existing).await;
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
    // PostgreSQL keeps microseconds: the answer matches what a later read returns.
    let now = Utc::now().trunc_subsecs(6);
    let recharge = recharges::Model {
        id: crate::db::new_id(),
        user_id,
        amount,
        status: RechargeStatus::Pending,
        provider: provider.name().to_owned(),
        idempotency_key: key.to_owned(),
        failure_reason: None,
        provider_order_id: None,
        provider_payment_id: None,
        client_secret: None,
        settled_at: None,
        created_at: now,
        updated_at: now,
    };
    recharges::Entity::insert(recharges::ActiveModel::from(recharge.clone()))
        .exec_without_returning(&txn)
        .await?;
    // The sandbox decides by itself, through a job; a real provider waits for its proof.
    if recharge.provider == SANDBOX {
        queue::enqueue(
            &txn,
            &super::jobs::ProcessWalletRecharge {
                recharge_id: recharge.id,
            },
        )
        .await?;
    }
    txn.commit().await?;
    state.wake_worker();
    open_checkout(state, recharge).await
}

/// Creates the provider's order for a PENDING recharge that has none yet (outside any
/// transaction: a provider call must not hold database locks) and stores it.
async fn open_checkout(
    state: &AppState,
    recharge: recharges::Model,
) -> AppResult<recharges::Model> {
    if recharge.provider_order_id.is_some() || recharge.status != RechargeStatus::Pending {
        return Ok(recharge);
    }
    let Some(provider) = state.providers.payment(&recharge.provider) else {
        return Ok(recharge);
    };
    let Some(checkout) = provider.create_checkout(&recharge).await? else {
        return Ok(recharge);
    };
    recharges::Entity::update_many()
        .col_expr(
            recharges::Column::ProviderOrderId,
            Expr::value(checkout.provider_order_id.clone()),
        )
        .col_expr(
            recharges::Column::ClientSecret,
            Expr::value(checkout.client_secret.clone()),
        )
        .col_expr(recharges::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(recharges::Column::Id.eq(recharge.id))
        .filter(recharges::Column::ProviderOrderId.is_null())
        .exec(&state.db)
        .await?;
    // A concurrent replay may have stored its own order first: answer with what is stored.
    find(&state.db, recharge.id)
        .await?
        .ok_or_else(|| AppError::not_found("recharge"))
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

/// The recharge of `provider` whose provider order is `order_id`.
pub async fn find_by_provider_order(
    conn: &impl ConnectionTrait,
    provider: &str,
    order_id: &str,
) -> AppResult<Option<recharges::Model>> {
    Ok(recharges::Entity::find()
        .filter(recharges::Column::Provider.eq(provider))
        .filter(recharges::Column::ProviderOrderId.eq(order_id))
        .one(conn)
        .await?)
}

/// What [`settle_recharge`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// The wallet was credited (now, by this proof).
    Credited,
    /// The recharge became FAILED.
    Failed,
    /// Settled before: nothing changed.
    AlreadySettled,
    /// The proof's amount or currency differs from the recharge: nothing changed.
    Mismatch(String),
    /// Another payment than the one that settled the recharge (the buyer paid twice): nothing
    /// credited; for an admin to refund.
    SecondPayment(String),
}

impl Settlement {
    /// The outcome recorded on a webhook event.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Credited => "credited",
            Self::Failed => "failed",
            Self::AlreadySettled => "already_settled",
            Self::Mismatch(_) => "mismatch",
            Self::SecondPayment(_) => "second_payment",
        }
    }
}

/// Applies a provider's proof to `recharge`, inside the caller's transaction. The first proof
/// of payment credits the wallet; any later one changes nothing. A payment proven after the
/// recharge FAILED (an expired order paid late, a retry after a declined attempt) still
/// credits, once: the provider has the buyer's money. A failure proof only fails a PENDING
/// recharge.
#[tracing::instrument(skip_all, fields(recharge = %recharge.id, source = ?proof.source))]
pub async fn settle_recharge(
    conn: &impl ConnectionTrait,
    recharge: &recharges::Model,
    proof: &PaymentProof,
) -> AppResult<Settlement> {
    let now = Utc::now();
    match &proof.outcome {
        PaymentOutcome::Paid => {
            if proof.amount != recharge.amount || proof.currency != CURRENCY {
                let detail = format!(
                    "the provider reports {} {} paid; the recharge is {} {CURRENCY}",
                    proof.amount, proof.currency, recharge.amount
                );
                tracing::error!(%detail, "payment proof does not match its recharge; nothing credited");
                return Ok(Settlement::Mismatch(detail));
            }
            let updated = recharges::Entity::update_many()
                .col_expr(
                    recharges::Column::Status,
                    Expr::value(RechargeStatus::Succeeded),
                )
                .col_expr(
                    recharges::Column::ProviderPaymentId,
                    Expr::value(proof.payment_id.clone()),
                )
                .col_expr(
                    recharges::Column::FailureReason,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(recharges::Column::SettledAt, Expr::value(now))
                .col_expr(recharges::Column::UpdatedAt, Expr::value(now))
                .filter(recharges::Column::Id.eq(recharge.id))
                .filter(
                    recharges::Column::Status
                        .is_in([RechargeStatus::Pending, RechargeStatus::Failed]),
                )
                .exec(conn)
                .await?;
            if updated.rows_affected == 0 {
                let settled_by = find(conn, recharge.id)
                    .await?
                    .and_then(|r| r.provider_payment_id);
                return Ok(match (settled_by, &proof.payment_id) {
                    (Some(first), Some(this)) if first != *this => {
                        let detail = format!(
                            "payment {this} also paid this recharge, already settled by {first}: refund it"
                        );
                        tracing::error!(%detail, "a second payment for one recharge; nothing credited");
                        Settlement::SecondPayment(detail)
                    }
                    _ => Settlement::AlreadySettled,
                });
            }
            let clearing = ledger::account(conn, AccountKind::ProviderClearing, PLATFORM).await?;
            let wallet =
                ledger::account(conn, AccountKind::UserAvailable, recharge.user_id).await?;
            ledger::transfer(
                conn,
                Transfer {
                    debit: clearing,
                    credit: wallet,
                    amount: recharge.amount,
                    kind: TransferKind::Recharge,
                    reference: format!("recharge:{}", recharge.id),
                    idempotency_key: Some(format!("recharge:{}", recharge.id)),
                    hold_id: None,
                },
            )
            .await?;
            tracing::info!(amount = recharge.amount, "recharge credited");
            Ok(Settlement::Credited)
        }
        PaymentOutcome::Failed(reason) => {
            let updated = recharges::Entity::update_many()
                .col_expr(
                    recharges::Column::Status,
                    Expr::value(RechargeStatus::Failed),
                )
                .col_expr(
                    recharges::Column::FailureReason,
                    Expr::value(reason.chars().take(500).collect::<String>()),
                )
                .col_expr(recharges::Column::SettledAt, Expr::value(now))
                .col_expr(recharges::Column::UpdatedAt, Expr::value(now))
                .filter(recharges::Column::Id.eq(recharge.id))
                .filter(recharges::Column::Status.eq(RechargeStatus::Pending))
                .exec(conn)
                .await?;
            Ok(if updated.rows_affected == 1 {
                Settlement::Failed
            } else {
                Settlement::AlreadySettled
            })
        }
    }
}

/// `confirmRecharge`: Razorpay Checkout's handler result. The signature is checked against the
/// order id from our own record, never one the client sends; a good one proves the payment of
/// the order's amount.
pub async fn confirm(
    state: &AppState,
    user_id: Uuid,
    recharge_id: Uuid,
    payment_id: &str,
    signature: &str,
) -> AppResult<recharges::Model> {
    let recharge = find(&state.db, recharge_id)
        .await?
        .filter(|r| r.user_id == user_id)
        .ok_or_else(|| AppError::not_found("recharge"))?;
    let payment_id = payment_id.trim();
    if payment_id.is_empty() || payment_id.len() > 64 {
        return Err(AppError::bad_input(
            "providerPaymentId",
            "must be 1 to 64 characters",
        ));
    }
    let provider = state
        .providers
        .payment(&recharge.provider)
        .filter(|p| p.name() == super::providers::razorpay::NAME);
    let (Some(provider), Some(order_id)) = (provider, recharge.provider_order_id.as_deref()) else {
        return Err(AppError::bad_input(
            "rechargeId",
            "only Razorpay recharges are confirmed this way; others settle by webhook",
        ));
    };
    if !provider.verify_checkout(order_id, payment_id, signature) {
        tracing::warn!(recharge = %recharge.id, "confirmRecharge with a bad signature refused");
        return Err(AppError::bad_input(
            "signature",
            "the signature does not match this recharge's payment",
        ));
    }
    let proof = PaymentProof {
        source: ProofSource::Checkout,
        outcome: PaymentOutcome::Paid,
        payment_id: Some(payment_id.to_owned()),
        amount: recharge.amount,
        currency: CURRENCY.to_owned(),
    };
    let txn = state.db.begin().await?;
    settle_recharge(&txn, &recharge, &proof).await?;
    txn.commit().await?;
    find(&state.db, recharge.id)
        .await?
        .ok_or_else(|| AppError::not_found("recharge"))
}

/// The `process_wallet_recharge` job: the sandbox decides and the recharge is settled.
pub async fn process(state: &AppState, recharge_id: Uuid) -> anyhow::Result<()> {
    let Some(recharge) = find(&state.db, recharge_id).await? else {
        anyhow::bail!("recharge {recharge_id} does not exist");
    };
    if recharge.status != RechargeStatus::Pending {
        return Ok(());
    }
    let Some(provider) = state.providers.payment(&recharge.provider) else {
        anyhow::bail!(
            "recharge {recharge_id}: provider {} is not configured",
            recharge.provider
        );
    };
    let Some(proof) = provider
        .query(&recharge)
        .await
        .map_err(anyhow::Error::new)?
    else {
        return Ok(());
    };
    let txn = state.db.begin().await?;
    settle_recharge(&txn, &recharge, &proof).await?;
    txn.commit().await?;
    Ok(())
}

/// Development and demo data: settles a sandbox recharge at once, as its job would.
pub async fn succeed(conn: &impl ConnectionTrait, recharge_id: Uuid) -> AppResult<bool> {
    let Some(recharge) = find(conn, recharge_id).await? else {
        return Ok(false);
    };
    if recharge.provider != SANDBOX {
        return Err(AppError::internal(anyhow::anyhow!(
            "only sandbox recharges settle without a provider's proof"
        )));
    }
    let proof = PaymentProof {
        source: ProofSource::Sandbox,
        outcome: PaymentOutcome::Paid,
        payment_id: None,
        amount: recharge.amount,
        currency: CURRENCY.to_owned(),
    };
    Ok(settle_recharge(conn, &recharge, &proof).await? == Settlement::Credited)
}

/// What one reconciliation run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub credited: usize,
    pub failed: usize,
    pub expired: usize,
    pub still_pending: usize,
    /// Recharges the provider could not be asked about (tried again next run).
    pub errors: usize,
}

/// How many recharges one run looks at.
const RECONCILE_BATCH: u64 = 500;

/// The `reconcile_recharges` job: asks the provider about every recharge still PENDING
/// `RECONCILE_AFTER_MINUTES` after `now`'s cut-off and settles it; one with no payment a day
/// after it started becomes FAILED (expired). One recharge that fails does not stop the run.
pub async fn reconcile(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<Reconciled> {
    let after = Duration::minutes(state.config.payments.reconcile_after_minutes);
    let pending = recharges::Entity::find()
        .filter(recharges::Column::Status.eq(RechargeStatus::Pending))
        .filter(recharges::Column::Provider.ne(SANDBOX))
        .filter(recharges::Column::CreatedAt.lte(now - after))
        .order_by_asc(recharges::Column::CreatedAt)
        .limit(RECONCILE_BATCH)
        .all(&state.db)
        .await?;
    let mut report = Reconciled::default();
    for recharge in pending {
        match reconcile_one(state, &recharge, now).await {
            Ok(Some(Settlement::Credited)) => report.credited += 1,
            Ok(Some(Settlement::Failed)) if recharge.created_at <= now - EXPIRE_AFTER => {
                report.expired += 1;
            }
            Ok(Some(Settlement::Failed)) => report.failed += 1,
            Ok(_) => report.still_pending += 1,
            Err(err) => {
                report.errors += 1;
                tracing::warn!(recharge = %recharge.id, error = %err, "could not reconcile a recharge");
            }
        }
    }
    tracing::info!(?report, "recharges reconciled");
    Ok(report)
}

async fn reconcile_one(
    state: &AppState,
    recharge: &recharges::Model,
    now: DateTime<Utc>,
) -> AppResult<Option<Settlement>> {
    let proof = match state.providers.payment(&recharge.provider) {
        Some(provider) => provider.query(recharge).await?,
        None => None,
    };
    let proof = match proof {
        Some(proof) => proof,
        None if recharge.created_at <= now - EXPIRE_AFTER => PaymentProof {
            source: ProofSource::Reconciliation,
            outcome: PaymentOutcome::Failed("expired: no payment within a day".into()),
            payment_id: None,
            amount: recharge.amount,
            currency: CURRENCY.to_owned(),
        },
        None => return Ok(None),
    };
    let txn = state.db.begin().await?;
    let settled = settle_recharge(&txn, recharge, &proof).await?;
    txn.commit().await?;
    Ok(Some(settled))
}
