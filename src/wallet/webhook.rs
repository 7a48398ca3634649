//! Provider webhooks, in two steps. [`receive`] verifies a delivery on its raw body, stores it
//! by (provider, event id) and queues its processing, all before answering, so the provider gets
//! its 2xx at once and a redelivered event is recognised (the unique index) and changes nothing.
//! The job ([`process_payment_event`] here, `payouts::webhook` for payouts) then acts on it and
//! writes its outcome in the same transaction as the effect. Events that matched no recharge,
//! whose amount or currency differed, or that paid a settled recharge again, keep their outcome
//! (`unmatched`, `mismatch`, `second_payment`) and detail for an admin to review ([`unmatched`]).

use chrono::Utc;
use entity::webhook_events;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    TransactionTrait as _, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    providers::{Delivery, PaymentEvent, RechargeRef, Rejection, VerifiedEvent},
    recharge,
};
use crate::{
    AppState,
    error::{AppError, AppResult},
    jobs::{job::Queued, queue},
    paging::{Cursor, Page},
};

/// Outcome of an event stored and not yet processed.
pub const RECEIVED: &str = "received";
/// Outcomes an admin should look at.
pub const FOR_REVIEW: [&str; 3] = ["unmatched", "mismatch", "second_payment"];

/// What the endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// No such rail is configured here: 404.
    NotConfigured,
    /// The signature did not verify: 401, nothing stored.
    BadSignature,
    /// Signed but unreadable: 400, nothing stored.
    Malformed(String),
    /// Stored and queued (200); `duplicate` when it had been received before.
    Accepted { duplicate: bool },
}

/// Verifies `delivery` with `verify`, then stores the event and queues `job(stored id)` (the
/// domain's job that acts on it) in one transaction.
pub async fn receive(
    state: &AppState,
    provider: &str,
    job: impl FnOnce(Uuid) -> serde_json::Result<Queued>,
    delivery: &Delivery<'_>,
    verify: impl FnOnce(&Delivery<'_>) -> Result<VerifiedEvent, Rejection>,
) -> AppResult<Receipt> {
    let event = match verify(delivery) {
        Ok(event) => event,
        Err(Rejection::BadSignature) => {
            tracing::warn!(%provider, "webhook with a bad signature refused");
            return Ok(Receipt::BadSignature);
        }
        Err(Rejection::Malformed(why)) => {
            tracing::warn!(%provider, %why, "signed webhook we cannot read");
            return Ok(Receipt::Malformed(why));
        }
    };
    if event.event_id.len() > 255 || event.event_type.len() > 255 {
        return Ok(Receipt::Malformed("event id or type too long".into()));
    }
    let Ok(payload) = String::from_utf8(delivery.body.to_vec()) else {
        return Ok(Receipt::Malformed("the body is not UTF-8".into()));
    };
    let id = crate::db::new_id();
    let txn = state.db.begin().await?;
    let inserted = webhook_events::Entity::insert(webhook_events::ActiveModel {
        id: Set(id),
        provider: Set(provider.to_owned()),
        event_id: Set(event.event_id.clone()),
        event_type: Set(event.event_type.clone()),
        outcome: Set(RECEIVED.to_owned()),
        received_at: Set(Utc::now()),
        payload: Set(Some(payload)),
        detail: Set(None),
        subject_id: Set(None),
        processed_at: Set(None),
    })
    .on_conflict_do_nothing_on([
        webhook_events::Column::Provider,
        webhook_events::Column::EventId,
    ])
    .exec_without_returning(&txn)
    .await?;
    if !matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        txn.rollback().await?;
        tracing::info!(%provider, event = %event.event_id, "duplicate webhook acknowledged");
        return Ok(Receipt::Accepted { duplicate: true });
    }
    let queued = job(id).map_err(AppError::internal)?;
    queue::enqueue_queued(&txn, queued, Utc::now()).await?;
    txn.commit().await?;
    state.wake_worker();
    tracing::info!(%provider, event = %event.event_id, kind = %event.event_type, "webhook stored");
    Ok(Receipt::Accepted { duplicate: false })
}

/// A stored event not processed yet; None once it has been.
pub async fn pending_event(
    conn: &impl ConnectionTrait,
    id: Uuid,
) -> AppResult<Option<webhook_events::Model>> {
    Ok(webhook_events::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|e| e.processed_at.is_none()))
}

/// Records what processing an event did, once: false (and the caller rolls back) when another
/// run got there first.
pub async fn record_outcome(
    conn: &impl ConnectionTrait,
    id: Uuid,
    outcome: &str,
    detail: Option<String>,
    subject_id: Option<Uuid>,
) -> AppResult<bool> {
    let updated = webhook_events::Entity::update_many()
        .col_expr(webhook_events::Column::Outcome, Expr::value(outcome))
        .col_expr(webhook_events::Column::Detail, Expr::value(detail))
        .col_expr(webhook_events::Column::SubjectId, Expr::value(subject_id))
        .col_expr(webhook_events::Column::ProcessedAt, Expr::value(Utc::now()))
        .filter(webhook_events::Column::Id.eq(id))
        .filter(webhook_events::Column::ProcessedAt.is_null())
        .exec(conn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The `process_payment_event` job: settles the recharge a stored payment event proves.
pub async fn process_payment_event(state: &AppState, id: Uuid) -> anyhow::Result<()> {
    let Some(event) = pending_event(&state.db, id).await? else {
        return Ok(());
    };
    let Some(provider) = state.providers.payment(&event.provider) else {
        anyhow::bail!(
            "webhook event {id}: provider {} is not configured",
            event.provider
        );
    };
    let body = event.payload.as_deref().unwrap_or_default().as_bytes();
    let txn = state.db.begin().await?;
    let (outcome, detail, subject) = match provider.parse_event(&event.event_type, body) {
        Err(why) => ("unmatched", Some(format!("unreadable event: {why}")), None),
        Ok(PaymentEvent::Ignored) => ("ignored", None, None),
        Ok(PaymentEvent::Payment { recharge, proof }) => {
            let found = match &recharge {
                RechargeRef::ProviderOrder { order_id, receipt } => {
                    match recharge::find_by_provider_order(&txn, &event.provider, order_id).await? {
                        Some(found) => Some(found),
                        None => match receipt {
                            Some(id) => recharge::find(&txn, *id)
                                .await?
                                .filter(|r| r.provider == event.provider),
                            None => None,
                        },
                    }
                }
                RechargeRef::Recharge(id) => recharge::find(&txn, *id)
                    .await?
                    .filter(|r| r.provider == event.provider),
            };
            match found {
                None => {
                    tracing::warn!(provider = %event.provider, event = %event.event_id, ?recharge, "webhook for no recharge of ours; kept for review");
                    (
                        "unmatched",
                        Some(format!("no recharge matches {recharge:?}")),
                        None,
                    )
                }
                Some(found) => {
                    let settled = recharge::settle_recharge(&txn, &found, &proof).await?;
                    let detail = match &settled {
                        recharge::Settlement::Mismatch(detail)
                        | recharge::Settlement::SecondPayment(detail) => Some(detail.clone()),
                        _ => None,
                    };
                    (settled.outcome(), detail, Some(found.id))
                }
            }
        }
    };
    if !record_outcome(&txn, id, outcome, detail, subject).await? {
        txn.rollback().await?;
        return Ok(());
    }
    txn.commit().await?;
    tracing::info!(provider = %event.provider, event = %event.event_id, %outcome, "webhook processed");
    Ok(())
}

/// A page of the events an admin should review, newest first, and how many there are.
pub async fn unmatched(
    conn: &impl ConnectionTrait,
    page: &Page<Cursor>,
) -> AppResult<(Vec<webhook_events::Model>, i64)> {
    crate::paging::newest_first::<webhook_events::Entity>(
        conn,
        Condition::all().add(webhook_events::Column::Outcome.is_in(FOR_REVIEW)),
        webhook_events::Column::ReceivedAt,
        webhook_events::Column::Id,
        page,
    )
    .await
}
