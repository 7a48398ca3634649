//! Completing a pickup: with the household's handover code (wrong codes counted, completion
//! locked after [`MAX_CODE_ATTEMPTS`]), or by an admin resolving a dispute (settle at corrected
//! weights, or cancel). The money settles ([`super::settlement::settle`]) in the transaction
//! that completes the pickup, exactly once.

use chrono::{DateTime, Utc};
use entity::{
    pickup_status_history::PickupActor,
    pickups::{self, PickupStatus},
};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _, QueryFilter as _,
    TransactionTrait as _,
    sea_query::{Expr, ExprTrait as _},
};
use uuid::Uuid;

use super::{
    common::{find, record_admin_change, tell, vendor_user},
    settlement::{self, WeighingLine},
    transitions::{cancel_with, move_status},
};
use crate::{
    error::{AppError, AppResult},
    pickups::state,
};

/// Wrong handover codes before completion is locked (the household can still dispute).
pub const MAX_CODE_ATTEMPTS: i32 = 5;

/// Vendor, WEIGHED → COMPLETED with the household's handover code: settles the money in the
/// same transaction. A wrong code is counted (and the count kept) and refused (BAD_USER_INPUT on
/// `code`); after [`MAX_CODE_ATTEMPTS`] wrong codes completion is locked (FORBIDDEN): the
/// household can dispute, and an admin settles.
pub async fn complete_pickup(
    db: &DatabaseConnection,
    pickup_id: Uuid,
    code: &str,
    actor: PickupActor,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<pickups::Model> {
    let txn = db.begin().await?;
    let pickup = find(&txn, pickup_id).await?;
    if !state::allowed(pickup.status, PickupStatus::Completed, actor) || actor == PickupActor::Admin
    {
        return Err(AppError::InvalidTransition(format!(
            "{} cannot complete a pickup that is {}",
            state::actor_name(actor),
            state::name(pickup.status)
        )));
    }
    if pickup.code_attempts >= MAX_CODE_ATTEMPTS {
        return Err(locked());
    }
    let right = pickup
        .handover_code
        .as_deref()
        .is_some_and(|expected| constant_time_eq(expected.as_bytes(), code.trim().as_bytes()));
    if !right {
        let counted = pickups::Entity::update_many()
            .col_expr(
                pickups::Column::CodeAttempts,
                Expr::col(pickups::Column::CodeAttempts).add(1),
            )
            .filter(pickups::Column::Id.eq(pickup.id))
            .filter(pickups::Column::Status.eq(PickupStatus::Weighed))
            .filter(pickups::Column::CodeAttempts.lt(MAX_CODE_ATTEMPTS))
            .exec(&txn)
            .await?;
        let after = find(&txn, pickup.id).await?;
        if after.code_attempts >= MAX_CODE_ATTEMPTS && counted.rows_affected == 1 {
            tell(
                &txn,
                after.household_id,
                "PICKUP_CODE_LOCKED",
                &format!("Pickup {}: too many wrong codes", after.number),
                "The collector entered a wrong handover code five times, so the pickup is locked. Dispute it and support will settle it.",
            )
            .await?;
        }
        txn.commit().await?;
        if after.code_attempts >= MAX_CODE_ATTEMPTS {
            return Err(locked());
        }
        return Err(AppError::bad_input(
            "code",
            format!(
                "wrong handover code; {} tries left",
                MAX_CODE_ATTEMPTS - after.code_attempts
            ),
        ));
    }
    let final_amount = pickup.final_amount.ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "weighed pickup {} has no amount",
            pickup.number
        ))
    })?;
    let commission = pickup.commission.unwrap_or_default();
    let moved = move_status(
        &txn,
        &pickup,
        PickupStatus::Completed,
        actor,
        Some(actor_id),
        None,
        vec![
            (
                pickups::Column::HandoverCode,
                Expr::value(Option::<String>::None),
            ),
            (
                pickups::Column::CompletedAt,
                Expr::value(settlement::stamp(now)),
            ),
        ],
        now,
    )
    .await?;
    settlement::settle(&txn, &moved, final_amount, commission).await?;
    tell_completed(&txn, &moved, final_amount).await?;
    txn.commit().await?;
    Ok(moved)
}

fn locked() -> AppError {
    AppError::Forbidden(format!(
        "completion is locked after {MAX_CODE_ATTEMPTS} wrong handover codes; the household can dispute the pickup"
    ))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn tell_completed(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    final_amount: i64,
) -> AppResult<()> {
    let amount = crate::money::format_inr(final_amount);
    tell(
        conn,
        pickup.household_id,
        "PICKUP_COMPLETED",
        &format!("Pickup {} paid: {amount}", pickup.number),
        &format!(
            "{amount} for pickup {} is in your wallet. Thank you for recycling!",
            pickup.number
        ),
    )
    .await?;
    if let Some(vendor) = vendor_user(conn, pickup).await? {
        tell(
            conn,
            vendor,
            "PICKUP_COMPLETED",
            &format!("Pickup {} completed", pickup.number),
            &format!(
                "You paid {amount} for pickup {}; the rest of your hold is released.",
                pickup.number
            ),
        )
        .await?;
    }
    Ok(())
}

/// Admin, DISPUTED → COMPLETED at the corrected weights (or the recorded ones when `lines` is
/// `None`), or → CANCELLED with the hold returned when `cancel` is true.
pub async fn resolve_dispute(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    lines: Option<Vec<WeighingLine>>,
    cancel: bool,
    admin_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<pickups::Model> {
    if cancel && lines.is_some() {
        return Err(AppError::bad_input(
            "cancel",
            "either correct the weights or cancel, not both",
        ));
    }
    let resolved = if cancel {
        if !state::allowed(pickup.status, PickupStatus::Cancelled, PickupActor::Admin) {
            return Err(not_disputed(pickup));
        }
        cancel_with(
            conn,
            pickup,
            Some("cancelled by support after a dispute".into()),
            PickupActor::Admin,
            Some(admin_id),
            now,
        )
        .await?
    } else {
        if !state::allowed(pickup.status, PickupStatus::Completed, PickupActor::Admin) {
            return Err(not_disputed(pickup));
        }
        let (final_amount, commission) = match &lines {
            Some(lines) => {
                let (priced, total) = settlement::price_lines(conn, pickup, lines).await?;
                settlement::store_lines(conn, pickup.id, &priced).await?;
                (total, settlement::commission_on(pickup, total)?)
            }
            None => (
                pickup.final_amount.ok_or_else(|| {
                    AppError::internal(anyhow::anyhow!("disputed pickup has no amount"))
                })?,
                pickup.commission.unwrap_or_default(),
            ),
        };
        let moved = move_status(
            conn,
            pickup,
            PickupStatus::Completed,
            PickupActor::Admin,
            Some(admin_id),
            Some("settled by support after a dispute".into()),
            vec![
                (pickups::Column::FinalAmount, Expr::value(final_amount)),
                (pickups::Column::Commission, Expr::value(commission)),
                (
                    pickups::Column::CompletedAt,
                    Expr::value(settlement::stamp(now)),
                ),
            ],
            now,
        )
        .await?;
        settlement::settle(conn, &moved, final_amount, commission).await?;
        tell_completed(conn, &moved, final_amount).await?;
        moved
    };
    record_admin_change(
        conn,
        admin_id,
        "pickup.resolve_dispute",
        "pickup",
        resolved.id,
        money_of(pickup, None),
        money_of(
            &resolved,
            Some(if cancel { "cancelled" } else { "settled" }),
        ),
    )
    .await?;
    if cancel {
        let title = format!("Pickup {} cancelled by support", resolved.number);
        let body = "Support cancelled the disputed pickup; the collector's hold is released.";
        tell(
            conn,
            resolved.household_id,
            "PICKUP_CANCELLED",
            &title,
            body,
        )
        .await?;
        if let Some(vendor) = vendor_user(conn, &resolved).await? {
            tell(conn, vendor, "PICKUP_CANCELLED", &title, body).await?;
        }
    }
    Ok(resolved)
}

/// A pickup's status and money as the audit log shows them.
fn money_of(pickup: &pickups::Model, detail: Option<&str>) -> serde_json::Value {
    let mut value = serde_json::json!({
        "status": state::name(pickup.status),
        "finalAmount": pickup.final_amount,
        "commission": pickup.commission,
    });
    if let (Some(detail), Some(map)) = (detail, value.as_object_mut()) {
        map.insert("detail".into(), detail.into());
    }
    value
}

fn not_disputed(pickup: &pickups::Model) -> AppError {
    AppError::InvalidTransition(format!(
        "only a DISPUTED pickup is resolved; this one is {}",
        state::name(pickup.status)
    ))
}
