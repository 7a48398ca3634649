//! Moving a pickup through the transition table ([`crate::pickups::state`]) with the effects of
//! each move: the collector's status and location, the weighing, disputes, cancellation, and the
//! review after completion (completion and dispute resolution are in [`super::completion`]).
//! Every move is a conditional update on the status read, so of two racing moves exactly one
//! wins; the other is INVALID_TRANSITION.

use chrono::{DateTime, Duration, Utc};
use entity::{
    pickup_reviews,
    pickup_status_history::PickupActor,
    pickups::{self, PickupStatus},
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _,
    sea_query::{Expr, ExprTrait as _},
};
use uuid::Uuid;

use super::{
    common::{find, record_history, tell, vendor_user},
    settlement::{self, WeighingLine},
    slots,
};
use crate::{
    error::{AppError, AppResult},
    pickups::state,
};

/// Moves `pickup` to `to` as `actor` if the table allows it, setting `set` too, conditional on
/// the status read. Leaving EN_ROUTE forgets the collector's location. Records the history.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn move_status(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    to: PickupStatus,
    actor: PickupActor,
    actor_id: Option<Uuid>,
    note: Option<String>,
    set: Vec<(pickups::Column, Expr)>,
    now: DateTime<Utc>,
) -> AppResult<pickups::Model> {
    let from = pickup.status;
    if !state::allowed(from, to, actor) {
        return Err(AppError::InvalidTransition(format!(
            "{} cannot move a pickup from {} to {}",
            state::actor_name(actor),
            state::name(from),
            state::name(to)
        )));
    }
    let mut update = pickups::Entity::update_many()
        .col_expr(pickups::Column::Status, Expr::value(to))
        .col_expr(
            pickups::Column::UpdatedAt,
            Expr::value(settlement::stamp(now)),
        );
    if from == PickupStatus::EnRoute {
        let none = Option::<f64>::None;
        update = update
            .col_expr(pickups::Column::CollectorLatitude, Expr::value(none))
            .col_expr(pickups::Column::CollectorLongitude, Expr::value(none))
            .col_expr(
                pickups::Column::LocatedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            );
    }
    for (column, value) in set {
        update = update.col_expr(column, value);
    }
    let moved = update
        .filter(pickups::Column::Id.eq(pickup.id))
        .filter(pickups::Column::Status.eq(from))
        .exec(conn)
        .await?;
    if moved.rows_affected == 0 {
        let current = find(conn, pickup.id).await?;
        return Err(AppError::InvalidTransition(format!(
            "the pickup changed meanwhile: it is now {}",
            state::name(current.status)
        )));
    }
    let moved = find(conn, pickup.id).await?;
    record_history(conn, &moved, Some(from), actor, actor_id, note).await?;
    Ok(moved)
}

fn clean_text(field: &str, text: Option<String>, required: bool) -> AppResult<Option<String>> {
    let text = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if required && text.is_none() {
        return Err(AppError::bad_input(field, "say why"));
    }
    if text.as_ref().is_some_and(|t| t.chars().count() > 1000) {
        return Err(AppError::bad_input(
            field,
            "must be at most 1,000 characters",
        ));
    }
    Ok(text)
}

/// Vendor: EN_ROUTE or ARRIVED (`updatePickupStatus`).
pub async fn update_status(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    to: PickupStatus,
    actor: PickupActor,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<pickups::Model> {
    if !matches!(to, PickupStatus::EnRoute | PickupStatus::Arrived) {
        return Err(AppError::bad_input(
            "status",
            "set EN_ROUTE or ARRIVED here; the other moves have their own mutations",
        ));
    }
    let moved = move_status(conn, pickup, to, actor, Some(actor_id), None, vec![], now).await?;
    let (title, body) = match to {
        PickupStatus::EnRoute => (
            format!("Your collector is on the way ({})", moved.number),
            "Follow them live in the app.".to_owned(),
        ),
        _ => (
            format!("Your collector has arrived ({})", moved.number),
            "Keep your scrap ready for weighing.".to_owned(),
        ),
    };
    tell(
        conn,
        moved.household_id,
        &format!("PICKUP_{}", state::name(to)),
        &title,
        &body,
    )
    .await?;
    Ok(moved)
}

/// Vendor, while EN_ROUTE: keeps `(latitude, longitude)` as the collector's last point, at most
/// once per `throttle` (across instances: the update is conditional on the last point's time).
/// `false` when throttled (nothing is kept or published).
pub async fn share_location(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    (latitude, longitude): (f64, f64),
    throttle: Duration,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    if !(-90.0..=90.0).contains(&latitude) || !latitude.is_finite() {
        return Err(AppError::bad_input(
            "latitude",
            "must be between -90 and 90",
        ));
    }
    if !(-180.0..=180.0).contains(&longitude) || !longitude.is_finite() {
        return Err(AppError::bad_input(
            "longitude",
            "must be between -180 and 180",
        ));
    }
    if pickup.status != PickupStatus::EnRoute {
        return Err(AppError::InvalidTransition(format!(
            "the location is shared only while EN_ROUTE; the pickup is {}",
            state::name(pickup.status)
        )));
    }
    let now = settlement::stamp(now);
    let kept = pickups::Entity::update_many()
        .col_expr(pickups::Column::CollectorLatitude, Expr::value(latitude))
        .col_expr(pickups::Column::CollectorLongitude, Expr::value(longitude))
        .col_expr(pickups::Column::LocatedAt, Expr::value(now))
        .filter(pickups::Column::Id.eq(pickup.id))
        .filter(pickups::Column::Status.eq(PickupStatus::EnRoute))
        .filter(
            pickups::Column::LocatedAt
                .is_null()
                .or(pickups::Column::LocatedAt.lte(now - throttle)),
        )
        .exec(conn)
        .await?;
    Ok(kept.rows_affected == 1)
}

/// Vendor, ARRIVED → WEIGHED: the lines priced at the locked rates, the final amount and the
/// commission on it, a fresh handover code for the household, the photo of the scale.
pub async fn record_weighing(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    lines: &[WeighingLine],
    photo_key: Option<String>,
    actor: PickupActor,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<pickups::Model> {
    if !state::allowed(pickup.status, PickupStatus::Weighed, actor) {
        return Err(AppError::InvalidTransition(format!(
            "{} cannot weigh a pickup that is {}",
            state::actor_name(actor),
            state::name(pickup.status)
        )));
    }
    let (priced, final_amount) = settlement::price_lines(conn, pickup, lines).await?;
    let commission = settlement::commission_on(pickup, final_amount)?;
    let code = settlement::handover_code();
    let moved = move_status(
        conn,
        pickup,
        PickupStatus::Weighed,
        actor,
        Some(actor_id),
        None,
        vec![
            (pickups::Column::FinalAmount, Expr::value(final_amount)),
            (pickups::Column::Commission, Expr::value(commission)),
            (pickups::Column::HandoverCode, Expr::value(code)),
            (pickups::Column::CodeAttempts, Expr::value(0)),
            (pickups::Column::WeighingPhotoKey, Expr::value(photo_key)),
            (
                pickups::Column::WeighedAt,
                Expr::value(settlement::stamp(now)),
            ),
        ],
        now,
    )
    .await?;
    settlement::store_lines(conn, moved.id, &priced).await?;
    tell(
        conn,
        moved.household_id,
        "PICKUP_WEIGHED",
        &format!("Pickup {} weighed: {}", moved.number, crate::money::format_inr(final_amount)),
        &format!(
            "Your scrap was weighed at {}. If that is right, give the collector the handover code shown in the app; if not, dispute it.",
            crate::money::format_inr(final_amount)
        ),
    )
    .await?;
    Ok(moved)
}

/// Household, WEIGHED → DISPUTED: the handover code is withdrawn and admins look at it.
pub async fn dispute_pickup(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    reason: Option<String>,
    actor: PickupActor,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<pickups::Model> {
    let reason = clean_text("reason", reason, true)?;
    let moved = move_status(
        conn,
        pickup,
        PickupStatus::Disputed,
        actor,
        Some(actor_id),
        reason.clone(),
        vec![
            (pickups::Column::DisputeReason, Expr::value(reason)),
            (
                pickups::Column::HandoverCode,
                Expr::value(Option::<String>::None),
            ),
        ],
        now,
    )
    .await?;
    if let Some(vendor) = vendor_user(conn, &moved).await? {
        tell(
            conn,
            vendor,
            "PICKUP_DISPUTED",
            &format!("Pickup {} is disputed", moved.number),
            "The household disputes the weighing. Support will settle it; your hold stays until then.",
        )
        .await?;
    }
    Ok(moved)
}

/// Household or vendor, before ARRIVED: CANCELLED, the hold voided and the slot's booking given
/// back.
pub async fn cancel_pickup(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    reason: Option<String>,
    actor: PickupActor,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<pickups::Model> {
    if !matches!(actor, PickupActor::Household | PickupActor::Vendor) {
        return Err(AppError::InvalidTransition(
            "only the household or the collector cancel; support resolves a dispute with resolvePickupDispute".into(),
        ));
    }
    let reason = clean_text("reason", reason, false)?;
    let moved = cancel_with(conn, pickup, reason, actor, Some(actor_id), now).await?;
    let (who, title) = (
        state::actor_name(actor),
        format!("Pickup {} cancelled", moved.number),
    );
    let body = format!("Pickup {} was cancelled by {who}.", moved.number);
    match actor {
        PickupActor::Household => {
            if let Some(vendor) = vendor_user(conn, &moved).await? {
                tell(conn, vendor, "PICKUP_CANCELLED", &title, &body).await?;
            }
        }
        _ => tell(conn, moved.household_id, "PICKUP_CANCELLED", &title, &body).await?,
    }
    Ok(moved)
}

pub(crate) async fn cancel_with(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    reason: Option<String>,
    actor: PickupActor,
    actor_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<pickups::Model> {
    let moved = move_status(
        conn,
        pickup,
        PickupStatus::Cancelled,
        actor,
        actor_id,
        reason.clone(),
        vec![
            (pickups::Column::CancelReason, Expr::value(reason)),
            (
                pickups::Column::HandoverCode,
                Expr::value(Option::<String>::None),
            ),
            (
                pickups::Column::OfferExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            ),
        ],
        now,
    )
    .await?;
    // The slot before the wallet, the order booking locks them in, so a cancel and a booking
    // of the same collector queue instead of deadlocking.
    if let Some(slot) = moved.slot_id {
        slots::give_back(conn, slot).await?;
    }
    settlement::void(conn, &moved).await?;
    Ok(moved)
}

/// Household, after COMPLETED: rates the collector 1 to 5, once.
pub async fn review_pickup(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    rating: i32,
    comment: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<pickup_reviews::Model> {
    if pickup.status != PickupStatus::Completed {
        return Err(AppError::InvalidTransition(
            "a pickup is reviewed once it is completed".into(),
        ));
    }
    if !(1..=5).contains(&rating) {
        return Err(AppError::bad_input("rating", "must be 1 to 5"));
    }
    let comment = clean_text("comment", comment, false)?;
    let vendor_id = pickup
        .vendor_id
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("completed pickup has no vendor")))?;
    let exists = pickup_reviews::Entity::find()
        .filter(pickup_reviews::Column::PickupId.eq(pickup.id))
        .one(conn)
        .await?;
    if exists.is_some() {
        return Err(AppError::Conflict(
            "you already reviewed this pickup".into(),
        ));
    }
    let review = pickup_reviews::Model {
        id: crate::db::new_id(),
        pickup_id: pickup.id,
        vendor_id,
        household_id: pickup.household_id,
        rating,
        comment,
        created_at: settlement::stamp(now),
    };
    pickup_reviews::Entity::insert(pickup_reviews::ActiveModel {
        id: Set(review.id),
        pickup_id: Set(review.pickup_id),
        vendor_id: Set(review.vendor_id),
        household_id: Set(review.household_id),
        rating: Set(review.rating),
        comment: Set(review.comment.clone()),
        created_at: Set(review.created_at),
    })
    .exec_without_returning(conn)
    .await?;
    if let Some(vendor) = vendor_user(conn, pickup).await? {
        tell(
            conn,
            vendor,
            "PICKUP_REVIEWED",
            &format!("New review for pickup {}", pickup.number),
            &format!("The household rated your pickup {rating} out of 5."),
        )
        .await?;
    }
    Ok(review)
}
