//! Payout rules: request (earnings → payout-held), approve, reject (payout-held → earnings),
//! mark paid (payout-held → provider clearing). Status changes are conditional updates, so a
//! payout is settled once.

use chrono::{SubsecRound as _, Utc};
use entity::{
    ledger_accounts::AccountKind,
    ledger_transfers::TransferKind,
    payouts::{self, PayoutStatus},
    vendors::{self, KycStatus},
};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait as _, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    money::format_inr,
    notifications::service as notifications,
    paging::{Cursor, Page},
    vendors::service as vendors_service,
    wallet::ledger::{self, PLATFORM, Transfer},
};

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<payouts::Model> {
    payouts::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("payout"))
}

async fn by_key(
    conn: &impl ConnectionTrait,
    vendor_id: Uuid,
    key: &str,
    amount: i64,
) -> AppResult<Option<payouts::Model>> {
    let existing = payouts::Entity::find()
        .filter(payouts::Column::VendorId.eq(vendor_id))
        .filter(payouts::Column::IdempotencyKey.eq(key))
        .one(conn)
        .await?;
    match existing {
        Some(p) if p.amount == amount => Ok(Some(p)),
        Some(_) => Err(AppError::Conflict(
            "this idempotency key was already used for a different payout".into(),
        )),
        None => Ok(None),
    }
}

/// Requests a payout of `amount` from `vendor`'s earnings. INSUFFICIENT_FUNDS when the earnings
/// are lower; the same key with the same amount returns the first request.
pub async fn request_payout(
    db: &DatabaseConnection,
    vendor: &vendors::Model,
    amount: i64,
    key: &str,
) -> AppResult<payouts::Model> {
    if vendor.kyc_status != KycStatus::Approved {
        return Err(AppError::Forbidden(
            "only vendors with approved KYC can request payouts".into(),
        ));
    }
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
    if let Some(existing) = by_key(db, vendor.id, key, amount).await? {
        return Ok(existing);
    }
    let txn = db.begin().await?;
    match request_in(&txn, vendor, amount, key).await {
        Ok(payout) => {
            txn.commit().await?;
            Ok(payout)
        }
        Err(err) => {
            txn.rollback().await?;
            if matches!(err, AppError::Conflict(_))
                && let Some(existing) = by_key(db, vendor.id, key, amount).await?
            {
                return Ok(existing);
            }
            Err(err)
        }
    }
}

async fn request_in(
    conn: &impl ConnectionTrait,
    vendor: &vendors::Model,
    amount: i64,
    key: &str,
) -> AppResult<payouts::Model> {
    let id = crate::db::new_id();
    let earnings = ledger::account(conn, AccountKind::VendorEarnings, vendor.id).await?;
    let held = ledger::account(conn, AccountKind::VendorPayoutHeld, vendor.id).await?;
    ledger::transfer(
        conn,
        Transfer {
            debit: earnings,
            credit: held,
            amount,
            kind: TransferKind::Hold,
            reference: format!("payout:{id}"),
            idempotency_key: Some(format!("payout:{id}:request")),
            hold_id: None,
        },
    )
    .await
    .map_err(|err| match err {
        AppError::InsufficientFunds(_) => AppError::InsufficientFunds(
            "that is more than your earnings available for payout".into(),
        ),
        other => other,
    })?;
    let now = Utc::now().trunc_subsecs(6);
    let payout = payouts::Model {
        id,
        vendor_id: vendor.id,
        amount,
        status: PayoutStatus::Requested,
        idempotency_key: key.to_owned(),
        reason: None,
        reference: None,
        created_at: now,
        updated_at: now,
        decided_at: None,
        paid_at: None,
    };
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

fn status_name(status: PayoutStatus) -> &'static str {
    match status {
        PayoutStatus::Requested => "REQUESTED",
        PayoutStatus::Approved => "APPROVED",
        PayoutStatus::Rejected => "REJECTED",
        PayoutStatus::Paid => "PAID",
    }
}

async fn tell_vendor(
    conn: &impl ConnectionTrait,
    payout: &payouts::Model,
    kind: &str,
    title: &str,
    body: &str,
) -> AppResult<()> {
    let vendor = vendors_service::find(conn, payout.vendor_id).await?;
    notifications::notify(conn, vendor.user_id, kind, title, body, None).await?;
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
    tell_vendor(
        conn,
        &payout,
        "PAYOUT_APPROVED",
        "Payout approved",
        &format!("Your payout of {} is approved.", format_inr(payout.amount)),
    )
    .await?;
    Ok(payout)
}

/// Admin: rejects a REQUESTED or APPROVED payout; the amount returns to the vendor's earnings.
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
    let held = ledger::account(conn, AccountKind::VendorPayoutHeld, payout.vendor_id).await?;
    let earnings = ledger::account(conn, AccountKind::VendorEarnings, payout.vendor_id).await?;
    ledger::transfer(
        conn,
        Transfer {
            debit: held,
            credit: earnings,
            amount: payout.amount,
            kind: TransferKind::Refund,
            reference: format!("payout:{id}"),
            idempotency_key: Some(format!("payout:{id}:reject")),
            hold_id: None,
        },
    )
    .await?;
    tell_vendor(
        conn,
        &payout,
        "PAYOUT_REJECTED",
        "Payout rejected",
        &format!(
            "Your payout of {} was rejected: {reason}. The amount is back in your earnings.",
            format_inr(payout.amount)
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
    let held = ledger::account(conn, AccountKind::VendorPayoutHeld, payout.vendor_id).await?;
    let clearing = ledger::account(conn, AccountKind::ProviderClearing, PLATFORM).await?;
    ledger::transfer(
        conn,
        Transfer {
            debit: held,
            credit: clearing,
            amount: payout.amount,
            kind: TransferKind::Payout,
            reference: format!("payout:{id}"),
            idempotency_key: Some(format!("payout:{id}:paid")),
            hold_id: None,
        },
    )
    .await?;
    tell_vendor(
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

/// A page of payouts (of one vendor, or all), newest first, and how many there are in all.
pub async fn page(
    conn: &impl ConnectionTrait,
    vendor_id: Option<Uuid>,
    status: Option<PayoutStatus>,
    page: &Page<Cursor>,
) -> AppResult<(Vec<payouts::Model>, i64)> {
    let mut filter = Condition::all();
    if let Some(vendor_id) = vendor_id {
        filter = filter.add(payouts::Column::VendorId.eq(vendor_id));
    }
    if let Some(status) = status {
        filter = filter.add(payouts::Column::Status.eq(status));
    }
    crate::paging::newest_first::<payouts::Entity>(
        conn,
        filter,
        payouts::Column::CreatedAt,
        payouts::Column::Id,
        page,
    )
    .await
}
