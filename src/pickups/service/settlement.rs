//! The money of a pickup: pricing the weighed lines at the locked rates, and settling the
//! vendor's hold: the final amount to the household, the commission on it (charged to the
//! vendor) to the platform, the rest of the hold back to the vendor. When the final amount and
//! commission are above the hold, the difference is held from the vendor's available balance in
//! the same transaction, or the completion is refused (INSUFFICIENT_FUNDS). Every movement goes
//! through the ledger; a hold is settled exactly once (a second settlement is CONFLICT).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{ledger_accounts::AccountKind, pickup_items, pickup_lines, pickups};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _,
};
use uuid::Uuid;

use super::{
    common::{line_amount, reference},
    rates,
};
use crate::{
    error::{AppError, AppResult},
    vendors::service as vendors,
    wallet::{escrow, ledger},
};

/// Most lines one weighing records.
pub const MAX_LINES: usize = 20;
/// The heaviest line: 100 tonnes, in grams.
pub const MAX_GRAMS: i64 = 100_000_000;

/// What the scale said for one material.
#[derive(Debug, Clone, Copy)]
pub struct WeighingLine {
    pub category_id: Uuid,
    pub weight_grams: i64,
}

/// The lines of `pickup` priced at its locked rates (the item's rate for a material it listed;
/// for another material, the rate that was in force when it was booked), and their total.
pub async fn price_lines(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    lines: &[WeighingLine],
) -> AppResult<(Vec<pickup_lines::Model>, i64)> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(AppError::bad_input(
            "lines",
            format!("a weighing has 1 to {MAX_LINES} lines"),
        ));
    }
    let mut seen = HashSet::new();
    for line in lines {
        if !(1..=MAX_GRAMS).contains(&line.weight_grams) {
            return Err(AppError::bad_input(
                "lines",
                format!("each weight is 1 to {MAX_GRAMS} grams"),
            ));
        }
        if !seen.insert(line.category_id) {
            return Err(AppError::bad_input("lines", "weigh each material once"));
        }
    }
    let locked: HashMap<Uuid, i64> = pickup_items::Entity::find()
        .filter(pickup_items::Column::PickupId.eq(pickup.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|i| (i.category_id, i.price_per_kg))
        .collect();
    let others: Vec<Uuid> = lines
        .iter()
        .map(|l| l.category_id)
        .filter(|c| !locked.contains_key(c))
        .collect();
    let at_booking: HashMap<Uuid, i64> = if others.is_empty() {
        HashMap::new()
    } else {
        rates::rates_at(conn, &pickup.address_city, &others, pickup.created_at)
            .await?
            .into_iter()
            .map(|(c, r)| (c, r.price_per_kg))
            .collect()
    };
    let mut priced = Vec::with_capacity(lines.len());
    let mut total: i64 = 0;
    for (position, line) in lines.iter().enumerate() {
        let price = locked
            .get(&line.category_id)
            .or_else(|| at_booking.get(&line.category_id))
            .copied()
            .ok_or_else(|| {
                AppError::bad_input(
                    "lines",
                    format!(
                        "a material had no rate in {} when the pickup was booked",
                        pickup.address_city
                    ),
                )
            })?;
        let amount = line_amount(line.weight_grams, price)?;
        total = total
            .checked_add(amount)
            .ok_or_else(|| AppError::bad_input("lines", "the amount is too large"))?;
        priced.push(pickup_lines::Model {
            id: crate::db::new_id(),
            pickup_id: pickup.id,
            category_id: line.category_id,
            position: i32::try_from(position).unwrap_or(i32::MAX),
            weight_grams: line.weight_grams,
            price_per_kg: price,
            amount,
        });
    }
    if total <= 0 {
        return Err(AppError::bad_input(
            "lines",
            "the weighing is worth nothing",
        ));
    }
    Ok((priced, total))
}

/// Replaces the pickup's weighed lines with `lines`.
pub async fn store_lines(
    conn: &impl ConnectionTrait,
    pickup_id: Uuid,
    lines: &[pickup_lines::Model],
) -> AppResult<()> {
    pickup_lines::Entity::delete_many()
        .filter(pickup_lines::Column::PickupId.eq(pickup_id))
        .exec(conn)
        .await?;
    pickup_lines::Entity::insert_many(lines.iter().map(|l| pickup_lines::ActiveModel {
        id: Set(l.id),
        pickup_id: Set(l.pickup_id),
        category_id: Set(l.category_id),
        position: Set(l.position),
        weight_grams: Set(l.weight_grams),
        price_per_kg: Set(l.price_per_kg),
        amount: Set(l.amount),
    }))
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The commission on `final_amount` at the rate frozen when the vendor took the pickup.
pub fn commission_on(pickup: &pickups::Model, final_amount: i64) -> AppResult<i64> {
    let bps = pickup.commission_bps.ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "pickup {} has no commission rate",
            pickup.number
        ))
    })?;
    escrow::commission(final_amount, i64::from(bps))
}

/// Pays a pickup from its hold (see the module docs), inside the completing transaction.
pub async fn settle(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    final_amount: i64,
    commission: i64,
) -> AppResult<()> {
    let hold_id = pickup.hold_id.ok_or_else(|| {
        AppError::internal(anyhow::anyhow!("pickup {} has no hold", pickup.number))
    })?;
    let vendor_id = pickup.vendor_id.ok_or_else(|| {
        AppError::internal(anyhow::anyhow!("pickup {} has no vendor", pickup.number))
    })?;
    let hold = escrow::find(conn, hold_id).await?;
    let household = ledger::account(conn, AccountKind::UserAvailable, pickup.household_id).await?;
    let needed = final_amount
        .checked_add(commission)
        .ok_or_else(|| AppError::bad_input("lines", "the amount is too large"))?;
    if needed <= hold.amount {
        escrow::release(conn, hold.id, &household, needed, commission).await?;
        return Ok(());
    }
    // Heavier than the hold covers: hold the difference from the vendor's available balance
    // now (or refuse), then release both holds.
    let vendor = vendors::find(conn, vendor_id).await?;
    let extra = escrow::hold(
        conn,
        vendor.user_id,
        needed - hold.amount,
        &reference(pickup.id),
    )
    .await
    .map_err(|err| match err {
        AppError::InsufficientFunds(_) => AppError::InsufficientFunds(format!(
            "the collector's wallet is {} short of paying this pickup; recharge it first",
            crate::money::format_inr(needed - hold.amount)
        )),
        other => other,
    })?;
    let first_commission = commission.min(hold.amount);
    escrow::release(conn, hold.id, &household, hold.amount, first_commission).await?;
    escrow::release(
        conn,
        extra.id,
        &household,
        extra.amount,
        commission - first_commission,
    )
    .await?;
    Ok(())
}

/// Returns the vendor's whole hold (a cancelled pickup), if one was placed.
pub async fn void(conn: &impl ConnectionTrait, pickup: &pickups::Model) -> AppResult<()> {
    if let Some(hold_id) = pickup.hold_id {
        escrow::void(conn, hold_id).await?;
    }
    Ok(())
}

/// A fresh handover code.
pub fn handover_code() -> String {
    use rand::Rng as _;
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// Keeps `now` within the timestamps' precision.
pub fn stamp(now: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound as _;
    now.trunc_subsecs(6)
}
