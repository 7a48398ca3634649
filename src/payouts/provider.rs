//! Payouts through the payout provider (RazorpayX). `approvePayout` queues [`submit`] in the
//! transaction that approves (and tries it at once): it sends the payout, with our payout id as
//! the idempotency key, and moves it APPROVED → PROCESSING. The provider's webhook then settles
//! it ([`process_payout_event`]), exactly once whatever order the events come in:
//! `payout.processed` → PAID (payout-held → provider clearing, the UTR as reference);
//! `payout.reversed`/`failed`/`rejected` → REVERSED, the money back in its source, the vendor's
//! earnings or the user's wallet (from payout-held, or from provider clearing when it had been
//! PAID). A late `processed` after a reversal changes nothing. Every status change is
//! conditional on the status it leaves. The fund account is the payout's user's, whatever the
//! source.

use chrono::Utc;
use entity::{
    payout_accounts::PayoutAccountKind,
    payouts::{self, PayoutStatus},
};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait as _,
    sea_query::Expr,
};
use uuid::Uuid;

use super::{
    accounts,
    funds::{self, Now},
    service,
};
use crate::{
    AppState,
    error::{AppError, AppResult},
    jobs::queue,
    money::format_inr,
    wallet::{
        ledger::CURRENCY,
        providers::{PayoutEvent, PayoutMode},
        webhook,
    },
};

/// Above this a bank payout goes by NEFT rather than IMPS (IMPS's limit: ₹5,00,000).
const IMPS_LIMIT_PAISE: i64 = 50_000_000;

/// The fund account a user's payouts go to, or BAD_USER_INPUT when it has none.
pub async fn fund_account(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
) -> AppResult<(String, PayoutAccountKind)> {
    accounts::find(conn, user_id)
        .await?
        .and_then(|a| a.provider_fund_account_id.map(|fa| (fa, a.kind)))
        .ok_or_else(|| {
            AppError::bad_request(
                "the payee has no payout account registered with the payout provider \
                 (setPayoutAccount)",
            )
        })
}

/// Sends an APPROVED payout to the provider and moves it to PROCESSING. Does nothing for a
/// payout in any other status (sent already, or settled).
pub async fn submit(state: &AppState, payout_id: Uuid) -> AppResult<payouts::Model> {
    let payout = service::find(&state.db, payout_id).await?;
    if payout.status != PayoutStatus::Approved {
        return Ok(payout);
    }
    let provider = state.providers.payouts();
    if !provider.is_automatic() {
        return Ok(payout);
    }
    let (fund_account, kind) = fund_account(&state.db, payout.user_id).await?;
    let mode = match kind {
        PayoutAccountKind::Vpa => PayoutMode::Upi,
        PayoutAccountKind::Bank if payout.amount <= IMPS_LIMIT_PAISE => PayoutMode::Imps,
        PayoutAccountKind::Bank => PayoutMode::Neft,
    };
    let provider_payout_id = provider.create_payout(&payout, &fund_account, mode).await?;
    payouts::Entity::update_many()
        .col_expr(
            payouts::Column::Status,
            Expr::value(PayoutStatus::Processing),
        )
        .col_expr(
            payouts::Column::ProviderPayoutId,
            Expr::value(provider_payout_id.clone()),
        )
        .col_expr(payouts::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payouts::Column::Id.eq(payout_id))
        .filter(payouts::Column::Status.eq(PayoutStatus::Approved))
        .exec(&state.db)
        .await?;
    tracing::info!(payout = %payout_id, %provider_payout_id, mode = mode.as_str(), "payout sent");
    service::find(&state.db, payout_id).await
}

/// In the transaction that approves `payout`: with an automatic payout provider, checks the
/// payee's fund account and queues the send (so it happens even if this process dies after
/// the commit). True when the payout is to be sent.
pub async fn queue_send(
    state: &AppState,
    txn: &impl ConnectionTrait,
    payout: &payouts::Model,
) -> AppResult<bool> {
    if !state.providers.payouts().is_automatic() {
        return Ok(false);
    }
    fund_account(txn, payout.user_id).await?;
    queue::enqueue(
        txn,
        &super::jobs::SubmitPayout {
            payout_id: payout.id,
        },
    )
    .await?;
    Ok(true)
}

/// After the approval committed: sends the payout at once (PROCESSING); if that fails the
/// queued job retries, and the approved payout is returned as it is.
pub async fn send_now(state: &AppState, payout: payouts::Model) -> payouts::Model {
    match submit(state, payout.id).await {
        Ok(sent) => sent,
        Err(err) => {
            tracing::warn!(payout = %payout.id, error = ?err, "payout not sent yet; the job retries");
            payout
        }
    }
}

/// The `submit_payout` job.
pub async fn submit_job(state: &AppState, payout_id: Uuid) -> anyhow::Result<()> {
    submit(state, payout_id)
        .await
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("submit payout {payout_id}: {e:?}"))
}

/// Moves `id` from one of `from` to `to`; false when it was in none of them.
async fn transition(
    conn: &impl ConnectionTrait,
    id: Uuid,
    from: &[PayoutStatus],
    to: PayoutStatus,
    reference: Option<String>,
    reason: Option<String>,
) -> AppResult<bool> {
    let now = Utc::now();
    let mut update = payouts::Entity::update_many()
        .col_expr(payouts::Column::Status, Expr::value(to))
        .col_expr(payouts::Column::UpdatedAt, Expr::value(now));
    if to == PayoutStatus::Paid {
        update = update
            .col_expr(payouts::Column::PaidAt, Expr::value(now))
            .col_expr(payouts::Column::Reference, Expr::value(reference));
    } else {
        update = update.col_expr(payouts::Column::Reason, Expr::value(reason));
    }
    let moved = update
        .filter(payouts::Column::Id.eq(id))
        .filter(payouts::Column::Status.is_in(from.iter().copied()))
        .exec(conn)
        .await?;
    Ok(moved.rows_affected == 1)
}

/// Applies one payout event inside the caller's transaction; the outcome to record, with a
/// detail for review, and the payout it was about.
async fn apply(
    conn: &impl ConnectionTrait,
    event: PayoutEvent,
) -> AppResult<(&'static str, Option<String>, Option<Uuid>)> {
    let (provider_payout_id, payout_id, amount, currency) = match &event {
        PayoutEvent::Ignored => return Ok(("ignored", None, None)),
        PayoutEvent::Processed {
            provider_payout_id,
            payout_id,
            amount,
            currency,
            ..
        }
        | PayoutEvent::Returned {
            provider_payout_id,
            payout_id,
            amount,
            currency,
            ..
        } => (
            provider_payout_id.clone(),
            *payout_id,
            *amount,
            currency.clone(),
        ),
    };
    // Ours by the reference id we sent; if we recorded the provider's id, it must agree.
    let found = match payout_id {
        Some(id) => payouts::Entity::find_by_id(id).one(conn).await?,
        None => {
            payouts::Entity::find()
                .filter(payouts::Column::ProviderPayoutId.eq(provider_payout_id.as_str()))
                .one(conn)
                .await?
        }
    }
    .filter(|p| {
        p.provider_payout_id
            .as_deref()
            .is_none_or(|id| id == provider_payout_id.as_str())
    });
    let Some(payout) = found else {
        return Ok((
            "unmatched",
            Some(format!("no payout of ours is {provider_payout_id}")),
            None,
        ));
    };
    if amount != payout.amount || currency != CURRENCY {
        let detail = format!(
            "the provider reports {amount} {currency}; the payout is {} {CURRENCY}",
            payout.amount
        );
        tracing::error!(payout = %payout.id, %detail, "payout event does not match; nothing moved");
        return Ok(("mismatch", Some(detail), Some(payout.id)));
    }
    let id = payout.id;
    let outcome = match event {
        PayoutEvent::Ignored => "ignored",
        PayoutEvent::Processed { utr, .. } => {
            let reference = utr.unwrap_or_else(|| provider_payout_id.clone());
            if transition(
                conn,
                id,
                &[PayoutStatus::Approved, PayoutStatus::Processing],
                PayoutStatus::Paid,
                Some(reference.clone()),
                None,
            )
            .await?
            {
                funds::pay(conn, &payout).await?;
                service::tell(
                    conn,
                    &payout,
                    "PAYOUT_PAID",
                    "Payout paid",
                    &format!(
                        "Your payout of {} was paid (reference {reference}).",
                        format_inr(payout.amount)
                    ),
                )
                .await?;
                "paid"
            } else {
                "already_settled"
            }
        }
        PayoutEvent::Returned { reason, .. } => {
            // Where the money is now: still held (sent, not yet paid) or with the provider.
            let from = if transition(
                conn,
                id,
                &[PayoutStatus::Approved, PayoutStatus::Processing],
                PayoutStatus::Reversed,
                None,
                Some(reason.clone()),
            )
            .await?
            {
                Some(Now::Held)
            } else if transition(
                conn,
                id,
                &[PayoutStatus::Paid],
                PayoutStatus::Reversed,
                None,
                Some(reason.clone()),
            )
            .await?
            {
                Some(Now::Clearing)
            } else {
                None
            };
            match from {
                Some(now) => {
                    funds::give_back(conn, &payout, now, "reversed").await?;
                    service::tell(
                        conn,
                        &payout,
                        "PAYOUT_REVERSED",
                        "Payout returned",
                        &format!(
                            "Your payout of {} did not go through ({reason}). The amount is back \
                             in your {}.",
                            format_inr(payout.amount),
                            funds::home(&payout)
                        ),
                    )
                    .await?;
                    "reversed"
                }
                None => "already_settled",
            }
        }
    };
    Ok((outcome, None, Some(id)))
}

/// The `process_payout_event` job: settles the payout a stored RazorpayX event is about.
pub async fn process_payout_event(state: &AppState, id: Uuid) -> anyhow::Result<()> {
    let Some(event) = webhook::pending_event(&state.db, id).await? else {
        return Ok(());
    };
    let provider = state.providers.payouts();
    let body = event.payload.as_deref().unwrap_or_default().as_bytes();
    let txn = state.db.begin().await?;
    let (outcome, detail, subject) = match provider.parse_event(&event.event_type, body) {
        Ok(parsed) => apply(&txn, parsed).await?,
        Err(why) => ("unmatched", Some(format!("unreadable event: {why}")), None),
    };
    if !webhook::record_outcome(&txn, id, outcome, detail, subject).await? {
        txn.rollback().await?;
        return Ok(());
    }
    txn.commit().await?;
    tracing::info!(event = %event.event_id, %outcome, "payout webhook processed");
    Ok(())
}
