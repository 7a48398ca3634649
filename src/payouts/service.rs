//! Payout rules: request (source → payout-held), approve, reject (payout-held → source), mark
//! paid (payout-held → provider clearing). One flow for both sources (a vendor's earnings, a
//! user's wallet): which ledger accounts a payout moves between is [`super::funds`]'s business.
//! Status changes are conditional updates, so a payout is settled once. Payouts sent through a
//! provider (RazorpayX) are in [`super::provider`].

use chrono::{SubsecRound as _, Utc};
use entity::{
    payouts::{self, PayoutSource, PayoutStatus},
    vendors::KycStatus,
};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait as _, sea_query::Expr,
};
use uuid::Uuid;

use super::funds::{self, Now};
use crate::{
    error::{AppError, AppResult},
    jobs::queue,
    money::format_inr,
    notifications::{jobs::SendNotification, service as notifications},
    paging::{Cursor, Page},
    vendors::service as vendors_service,
};

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<payouts::Model> {
    payouts::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("payout"))
}

/// Whom a payout pays and what it draws from, once the caller's right to it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draw {
    pub user_id: Uuid,
    pub source: PayoutSource,
    /// The vendor whose earnings are drawn (EARNINGS only).
    pub vendor_id: Option<Uuid>,
}

/// Decides what `user_id`'s payout draws from. EARNINGS needs the user's vendor to have approved
/// KYC (FORBIDDEN otherwise); WALLET is open to every user. Without a choice, a user with a
/// vendor profile is paid its earnings (as vendors always were) and anyone else its wallet.
pub async fn choose_source(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    requested: Option<PayoutSource>,
) -> AppResult<Draw> {
    let source = match requested {
        Some(source) => source,
        None => match vendors_service::of_user(conn, user_id).await? {
            Some(_) => PayoutSource::Earnings,
            None => PayoutSource::Wallet,
        },
    };
    let vendor_id = match source {
        PayoutSource::Wallet => None,
        PayoutSource::Earnings => {
            let vendor = vendors_service::require_own(conn, user_id).await?;
            if vendor.kyc_status != KycStatus::Approved {
                return Err(AppError::Forbidden(
                    "only vendors with approved KYC can request payouts of earnings".into(),
                ));
            }
            Some(vendor.id)
        }
    };
    Ok(Draw {
        user_id,
        source,
        vendor_id,
    })
}

async fn by_key(
    conn: &impl ConnectionTrait,
    draw: &Draw,
    key: &str,
    amount: i64,
) -> AppResult<Option<payouts::Model>> {
    let existing = payouts::Entity::find()
        .filter(payouts::Column::UserId.eq(draw.user_id))
        .filter(payouts::Column::IdempotencyKey.eq(key))
        .one(conn)
        .await?;
    match existing {
        Some(p) if p.amount == amount && p.source == draw.source => Ok(Some(p)),
        Some(_) => Err(AppError::Conflict(
            "this idempotency key was already used for a different payout".into(),
        )),
        None => Ok(None),
    }
}

/// Requests a payout of `amount` from `draw`'s source (see [`choose_source`]).
/// INSUFFICIENT_FUNDS when the source holds less; the same key with the same amount and source
/// returns the first request.
#[tracing::instrument(skip(db), fields(user = %draw.user_id, source = ?draw.source))]
pub async fn request_payout(
    db: &DatabaseConnection,
    draw: Draw,
    amount: i64,
    key: &str,
) -> AppResult<payouts::Model> {
    if amount <= 0 {
        return Err(AppError::bad_input("amount", "must be more than zero"));
    }
    let key = key.trim();
    if key.is_empty() || key.chars().count() > 128 {
        return Err(AppError::bad_input(
            "idempotencyKey",
            "must be 1 to 128 characters",
        ));
    }
    if let Some(existing) = by_key(db, &draw, key, amount).await? {
        return Ok(existing);
    }
    let txn = db.begin().await?;
    match request_in(&txn, &draw, amount, key).await {
        Ok(payout) => {
            txn.commit().await?;
            Ok(payout)
        }
        Err(err) => {
            txn.rollback().await?;
            if matches!(err, AppError::Conflict(_))
                && let Some(existing) = by_key(db, &draw, key, amount).await?
            {
                return Ok(existing);
            }
            Err(err)
        }
    }
}

async fn request_in(
    conn: &impl ConnectionTrait,
    draw: &Draw,
    amount: i64,
    key: &str,
) -> AppResult<payouts::Model> {
    let now = Utc::now().trunc_subsecs(6);
    let payout = payouts::Model {
        id: crate::db::new_id(),
        user_id: draw.user_id,
        vendor_id: draw.vendor_id,
        source: draw.source,
        amount,
        status: PayoutStatus::Requested,
        idempotency_key: key.to_owned(),
        reason: None,
        reference: None,
        created_at: now,
        updated_at: now,
        decided_at: None,
        paid_at: None,
        provider_payout_id: None,
    };
    funds::reserve(conn, &payout).await?;
    payouts::Entity::insert(payouts::ActiveModel::from(payout.clone()))
        .exec_without_returning(conn)
        .await?;
    Ok(payout)
}

/// Moves a payout from one of `from` to `to`, once; INVALID_TRANSITION otherwise.
async fn set_status(
    conn: &impl ConnectionTrait,
    id: Uuid,
    from: &[PayoutStatus],
    to: PayoutStatus,
    reason: Option<String>,
    reference: Option<String>,
) -> AppResult<payouts::Model> {
    let payout = find(conn, id).await?;
    let now = Utc::now();
    let mut update = payouts::Entity::update_many()
        .col_expr(payouts::Column::Status, Expr::value(to))
        .col_expr(payouts::Column::UpdatedAt, Expr::value(now));
    if to == PayoutStatus::Paid {
        update = update
            .col_expr(payouts::Column::PaidAt, Expr::value(now))
            .col_expr(payouts::Column::Reference, Expr::value(reference));
    } else {
        update = update
            .col_expr(payouts::Column::DecidedAt, Expr::value(now))
            .col_expr(payouts::Column::Reason, Expr::value(reason));
    }
    let moved = update
        .filter(payouts::Column::Id.eq(id))
        .filter(payouts::Column::Status.is_in(from.iter().copied()))
        .exec(conn)
        .await?;
    if moved.rows_affected == 0 {
        return Err(AppError::InvalidTransition(format!(
            "a {} payout cannot become {}",
            status_name(payout.status),
            status_name(to)
        )));
    }
    find(conn, id).await
}

/// The status as the API spells it.
pub fn status_name(status: PayoutStatus) -> &'static str {
    match status {
        PayoutStatus::Requested => "REQUESTED",
        PayoutStatus::Approved => "APPROVED",
        PayoutStatus::Rejected => "REJECTED",
        PayoutStatus::Paid => "PAID",
        PayoutStatus::Processing => "PROCESSING",
        PayoutStatus::Reversed => "REVERSED",
    }
}

/// Tells the user a payout pays (a vendor's user, or the household) in the app, and by email
/// through the `send_notification` job queued in the same transaction.
pub(crate) async fn tell(
    conn: &impl ConnectionTrait,
    payout: &payouts::Model,
    kind: &str,
    title: &str,
    body: &str,
) -> AppResult<()> {
    let stored = notifications::notify(conn, payout.user_id, kind, title, body, None).await?;
    queue::enqueue(
        conn,
        &SendNotification {
            notification_id: stored.id,
        },
    )
    .await?;
    Ok(())
}

/// Admin: approves a REQUESTED payout.
pub async fn approve(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<payouts::Model> {
    let payout = set_status(
        conn,
        id,
        &[PayoutStatus::Requested],
        PayoutStatus::Approved,
        None,
        None,
    )
    .await?;
    tell(
        conn,
        &payout,
        "PAYOUT_APPROVED",
        "Payout approved",
        &format!("Your payout of {} is approved.", format_inr(payout.amount)),
    )
    .await?;
    Ok(payout)
}

/// Admin: rejects a REQUESTED or APPROVED payout; the amount returns to its source (earnings or
/// wallet).
pub async fn reject(
    conn: &impl ConnectionTrait,
    id: Uuid,
    reason: &str,
) -> AppResult<payouts::Model> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::bad_input(
            "reason",
            "say why the payout is rejected",
        ));
    }
    let payout = set_status(
        conn,
        id,
        &[PayoutStatus::Requested, PayoutStatus::Approved],
        PayoutStatus::Rejected,
        Some(reason.to_owned()),
        None,
    )
    .await?;
    funds::give_back(conn, &payout, Now::Held, "reject").await?;
    tell(
        conn,
        &payout,
        "PAYOUT_REJECTED",
        "Payout rejected",
        &format!(
            "Your payout of {} was rejected: {reason}. The amount is back in your {}.",
            format_inr(payout.amount),
            funds::home(&payout)
        ),
    )
    .await?;
    Ok(payout)
}

/// Admin: records that an APPROVED payout was paid (with the bank or provider reference); the
/// amount leaves the platform through the provider clearing account.
pub async fn mark_paid(
    conn: &impl ConnectionTrait,
    id: Uuid,
    reference: &str,
) -> AppResult<payouts::Model> {
    let reference = reference.trim();
    if reference.is_empty() || reference.chars().count() > 200 {
        return Err(AppError::bad_input(
            "reference",
            "give the payment reference (1 to 200 characters)",
        ));
    }
    let payout = set_status(
        conn,
        id,
        &[PayoutStatus::Approved],
        PayoutStatus::Paid,
        None,
        Some(reference.to_owned()),
    )
    .await?;
    funds::pay(conn, &payout).await?;
    tell(
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
    Ok(payout)
}

/// Which payouts a list shows; every field given must match.
#[derive(Debug, Clone, Copy, Default)]
pub struct PayoutFilter {
    /// The user paid.
    pub user_id: Option<Uuid>,
    /// The vendor whose earnings are paid.
    pub vendor_id: Option<Uuid>,
    pub source: Option<PayoutSource>,
    pub status: Option<PayoutStatus>,
}

/// A page of the payouts `filter` matches, newest first, and how many there are in all.
pub async fn page(
    conn: &impl ConnectionTrait,
    filter: PayoutFilter,
    page: &Page<Cursor>,
) -> AppResult<(Vec<payouts::Model>, i64)> {
    let mut condition = Condition::all();
    if let Some(user_id) = filter.user_id {
        condition = condition.add(payouts::Column::UserId.eq(user_id));
    }
    if let Some(vendor_id) = filter.vendor_id {
        condition = condition.add(payouts::Column::VendorId.eq(vendor_id));
    }
    if let Some(source) = filter.source {
        condition = condition.add(payouts::Column::Source.eq(source));
    }
    if let Some(status) = filter.status {
        condition = condition.add(payouts::Column::Status.eq(status));
    }
    crate::paging::newest_first::<payouts::Entity>(
        conn,
        condition,
        payouts::Column::CreatedAt,
        payouts::Column::Id,
        page,
    )
    .await
}
