//! Thin mutation resolvers: parse, find what the caller is to the pickup, call one service
//! function in one transaction, publish after the commit, map the result.

use async_graphql::{Context, ID, Object, Upload};
use chrono::{Duration, Utc};
use sea_orm::TransactionTrait as _;

use super::queries::{published, weighing_lines};
use super::{inputs::*, parts::*, types::*};
use crate::{
    error::{AppError, AppResult},
    graphql::{context::ContextExt as _, ids::parse_id, upload::read_upload},
    pickups::{
        admin as pickups_admin, events,
        jobs::handlers::offer_rules,
        service::{
            self, Access, actor_of,
            booking::{BookPickupInput as BookInput, PickupItemInput as ItemInput},
            completion, offers,
            rates::SetRateInput,
            slots::{self, SlotInput as NewSlot},
            transitions, weighing,
        },
    },
    storage::sniff::IMAGES,
    vendors::service as vendors,
};
#[derive(Default)]
pub struct PickupsMutation;

/// Runs a move of `pickup_id` as whatever the caller is to it, in one transaction, and
/// publishes the new status after the commit.
macro_rules! move_pickup {
    ($ctx:expr, $pickup_id:expr, |$txn:ident, $pickup:ident, $access:ident, $viewer:ident, $now:ident| $body:expr) => {{
        let ctx = $ctx;
        let $viewer = ctx.viewer()?;
        let id = parse_id("pickupId", $pickup_id)?;
        let state = ctx.state();
        let $now = Utc::now();
        let $txn = state.db.begin().await?;
        let ($pickup, $access) = service::visible(&$txn, &$viewer, id).await?;
        let moved = $body;
        $txn.commit().await?;
        Ok(published(state, moved).await)
    }};
}

#[Object]
impl PickupsMutation {
    /// Admin: a new rate for a city and material, in force from `effectiveFrom` (default now;
    /// never in the past, so bookings keep the rates they locked).
    async fn set_rate(&self, ctx: &Context<'_>, input: RateInput) -> AppResult<Rate> {
        let admin = ctx.admin()?;
        let input = SetRateInput {
            city: input.city,
            category_id: parse_id("categoryId", &input.category_id)?,
            price_per_kg: input.price_per_kg.0,
            effective_from: input.effective_from,
        };
        Ok(Rate(
            pickups_admin::set_rate(ctx.state(), admin, input).await?,
        ))
    }

    /// Vendor: publishes pickup slots (all or none). Households see them in `pickupSlots` once
    /// the shop is approved.
    async fn add_pickup_slots(
        &self,
        ctx: &Context<'_>,
        slots: Vec<SlotInput>,
    ) -> AppResult<Vec<PickupSlot>> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let txn = state.db.begin().await?;
        let vendor = vendors::require_own(&txn, viewer.user_id).await?;
        let added = slots::add_slots(
            &txn,
            &vendor,
            slots
                .into_iter()
                .map(|s| NewSlot {
                    start: s.start,
                    end: s.end,
                    capacity: s.capacity,
                })
                .collect(),
            Utc::now(),
        )
        .await?;
        txn.commit().await?;
        Ok(added.into_iter().map(PickupSlot).collect())
    }

    /// Vendor: takes one of the shop's slots off the list (pickups booked into it stay).
    /// False when it was already removed.
    async fn remove_pickup_slot(&self, ctx: &Context<'_>, id: ID) -> AppResult<bool> {
        let viewer = ctx.viewer()?;
        let slot = parse_id("id", &id)?;
        let db = &ctx.state().db;
        let vendor = vendors::require_own(db, viewer.user_id).await?;
        slots::remove_slot(db, &vendor, slot, Utc::now()).await
    }

    /// Books a pickup at one of the caller's addresses: the quote is Σ rate × estimated kg at
    /// the rates in force now, locked for this pickup. With `slotId` the slot's collector takes
    /// it at once (its hold is placed; INSUFFICIENT_FUNDS or a full slot refuse it); without,
    /// it is offered to the nearest collectors covering the address.
    async fn book_pickup(&self, ctx: &Context<'_>, input: BookPickupInput) -> AppResult<Pickup> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let items = input
            .items
            .iter()
            .map(|i| {
                Ok(ItemInput {
                    category_id: parse_id("items", &i.category_id)?,
                    estimated_kg: i.estimated_kg,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        let booked = state
            .bookings
            .book(
                viewer.user_id,
                BookInput {
                    address_id: parse_id("addressId", &input.address_id)?,
                    slot_id: input
                        .slot_id
                        .as_ref()
                        .map(|s| parse_id("slotId", s))
                        .transpose()?,
                    items,
                    note: input.note,
                    idempotency_key: input.idempotency_key,
                },
                offer_rules(state),
            )
            .await?;
        if booked.created {
            return Ok(published(state, booked.pickup).await);
        }
        Ok(Pickup(booked.pickup))
    }

    /// Vendor: takes a pickup offered to the shop. The first collector wins; the others get
    /// CONFLICT. The quote plus the hold margin is held from the caller's wallet
    /// (INSUFFICIENT_FUNDS otherwise, and the offer stays open).
    async fn accept_pickup(&self, ctx: &Context<'_>, pickup_id: ID) -> AppResult<Pickup> {
        let viewer = ctx.viewer()?;
        let id = parse_id("pickupId", &pickup_id)?;
        let state = ctx.state();
        let txn = state.db.begin().await?;
        let vendor = vendors::require_own(&txn, viewer.user_id).await?;
        let pickup = offers::accept_pickup(&txn, &vendor, id, Utc::now()).await?;
        txn.commit().await?;
        Ok(published(state, pickup).await)
    }

    /// Collector: EN_ROUTE (setting out) or ARRIVED (at the door). INVALID_TRANSITION for
    /// anything the transition table does not allow the caller.
    async fn update_pickup_status(
        &self,
        ctx: &Context<'_>,
        pickup_id: ID,
        status: PickupStatus,
    ) -> AppResult<Pickup> {
        move_pickup!(ctx, &pickup_id, |txn, pickup, access, viewer, now| {
            transitions::update_status(
                &txn,
                &pickup,
                status.into(),
                actor_of(access),
                viewer.user_id,
                now,
            )
            .await?
        })
    }

    /// Collector, while EN_ROUTE: shares where they are, pushed to the household on
    /// `pickupUpdated`. At most one point per `PICKUP_LOCATION_THROTTLE_MS`: false when this
    /// one was dropped. Only the last point is kept.
    async fn share_pickup_location(
        &self,
        ctx: &Context<'_>,
        pickup_id: ID,
        latitude: f64,
        longitude: f64,
    ) -> AppResult<bool> {
        let viewer = ctx.viewer()?;
        let id = parse_id("pickupId", &pickup_id)?;
        let state = ctx.state();
        let (pickup, access) = service::visible(&state.db, &viewer, id).await?;
        if access != Access::Vendor {
            return Err(AppError::Forbidden(
                "only the collector shares its location".into(),
            ));
        }
        let now = Utc::now();
        let throttle = Duration::from_std(state.config.pickups.location_throttle)
            .unwrap_or_else(|_| Duration::seconds(5));
        let kept =
            transitions::share_location(&state.db, &pickup, (latitude, longitude), throttle, now)
                .await?;
        if kept {
            events::publish(
                state,
                &events::PickupEvent::location(&pickup, (latitude, longitude), now),
            )
            .await;
        }
        Ok(kept)
    }

    /// Collector, ARRIVED: records what the scale said (with a photo of it) → WEIGHED, with
    /// the final amount at the locked rates (each line round(weightGrams × rate / 1000)); the
    /// household gets the handover code.
    async fn record_weighing(
        &self,
        ctx: &Context<'_>,
        pickup_id: ID,
        lines: Vec<WeighingLineInput>,
        photo: Option<Upload>,
    ) -> AppResult<Pickup> {
        let lines = weighing_lines(&lines)?;
        let viewer = ctx.viewer()?;
        let id = parse_id("pickupId", &pickup_id)?;
        let state = ctx.state();
        let read_photo = photo
            .as_ref()
            .map(|upload| move || read_upload(ctx, "photo", upload, IMAGES));
        let weighed = weighing::weigh(
            &state.db,
            &state.storage,
            &viewer,
            id,
            &lines,
            read_photo,
            Utc::now(),
        )
        .await?;
        Ok(published(state, weighed).await)
    }

    /// Collector, WEIGHED: completes the pickup with the household's handover code, paying the
    /// final amount from the hold (commission to the platform, the rest released) in one
    /// transaction. A wrong code is counted; after 5 completion is locked (FORBIDDEN).
    async fn complete_pickup(
        &self,
        ctx: &Context<'_>,
        pickup_id: ID,
        code: String,
    ) -> AppResult<Pickup> {
        let viewer = ctx.viewer()?;
        let id = parse_id("pickupId", &pickup_id)?;
        let state = ctx.state();
        let (_, access) = service::visible(&state.db, &viewer, id).await?;
        let pickup = completion::complete_pickup(
            &state.db,
            id,
            &code,
            actor_of(access),
            viewer.user_id,
            Utc::now(),
        )
        .await;
        // A wrong code's notification (locked) is committed even though the call fails.
        state.wake_worker();
        Ok(published(state, pickup?).await)
    }

    /// Household, WEIGHED: disputes the weighing instead of handing over the code → DISPUTED;
    /// support settles or cancels it.
    async fn dispute_pickup(
        &self,
        ctx: &Context<'_>,
        pickup_id: ID,
        reason: String,
    ) -> AppResult<Pickup> {
        move_pickup!(ctx, &pickup_id, |txn, pickup, access, viewer, now| {
            transitions::dispute_pickup(
                &txn,
                &pickup,
                Some(reason),
                actor_of(access),
                viewer.user_id,
                now,
            )
            .await?
        })
    }

    /// Household or collector, before ARRIVED: cancels the pickup; the collector's hold and the
    /// slot's booking are returned.
    async fn cancel_pickup(
        &self,
        ctx: &Context<'_>,
        pickup_id: ID,
        reason: Option<String>,
    ) -> AppResult<Pickup> {
        move_pickup!(ctx, &pickup_id, |txn, pickup, access, viewer, now| {
            transitions::cancel_pickup(&txn, &pickup, reason, actor_of(access), viewer.user_id, now)
                .await?
        })
    }

    /// Admin: resolves a DISPUTED pickup: settles it at the corrected weights (`lines`; the
    /// recorded ones when omitted) → COMPLETED, or with `cancel: true` → CANCELLED and the
    /// collector's hold returned.
    async fn resolve_pickup_dispute(
        &self,
        ctx: &Context<'_>,
        pickup_id: ID,
        lines: Option<Vec<WeighingLineInput>>,
        cancel: Option<bool>,
    ) -> AppResult<Pickup> {
        let admin = ctx.admin()?;
        let id = parse_id("pickupId", &pickup_id)?;
        let lines = lines.as_deref().map(weighing_lines).transpose()?;
        let resolved =
            pickups_admin::resolve_dispute(ctx.state(), admin, id, lines, cancel.unwrap_or(false))
                .await?;
        Ok(Pickup(resolved))
    }

    /// Household, after COMPLETED: rates the collector 1 to 5, once.
    async fn review_pickup(
        &self,
        ctx: &Context<'_>,
        pickup_id: ID,
        rating: i32,
        comment: Option<String>,
    ) -> AppResult<PickupReview> {
        let viewer = ctx.viewer()?;
        let id = parse_id("pickupId", &pickup_id)?;
        let state = ctx.state();
        let txn = state.db.begin().await?;
        let (pickup, access) = service::visible(&txn, &viewer, id).await?;
        if access != Access::Household {
            return Err(AppError::Forbidden(
                "only the household reviews its collector".into(),
            ));
        }
        let review = transitions::review_pickup(&txn, &pickup, rating, comment, Utc::now()).await?;
        txn.commit().await?;
        state.wake_worker();
        Ok(PickupReview(review))
    }
}
