//! Thin query resolvers: rate cards, slots, pickups, offers, the recycling summary.

use async_graphql::{Context, ID, Object, connection::Connection};
use chrono::{DateTime, Utc};

use super::{inputs::*, parts::*, types::*};
use crate::{
    AppState,
    error::AppResult,
    graphql::{
        context::ContextExt as _,
        ids::parse_id,
        relay::{self, ConnectionFields, Cursor, Page},
        scalars::{Money, Paise},
    },
    pickups::{
        events,
        service::{
            self,
            queries::{self, Scope},
            rates::{self},
            settlement::WeighingLine,
            slots::{self},
        },
    },
    vendors::service as vendors,
};
fn pickup_connection(
    page: &Page<Cursor>,
    rows: Vec<entity::pickups::Model>,
    total: i64,
) -> Connection<Cursor, Pickup, ConnectionFields> {
    relay::connection(
        page,
        rows,
        total,
        |p| Cursor {
            at: p.created_at,
            id: p.id,
        },
        Pickup,
    )
}

pub(super) fn weighing_lines(lines: &[WeighingLineInput]) -> AppResult<Vec<WeighingLine>> {
    lines
        .iter()
        .map(|l| {
            Ok(WeighingLine {
                category_id: parse_id("lines", &l.category_id)?,
                weight_grams: i64::from(l.weight_grams),
            })
        })
        .collect()
}

/// After a committed change: the `pickupUpdated` event, and the worker for the emails.
pub(super) async fn published(state: &AppState, pickup: entity::pickups::Model) -> Pickup {
    events::status_changed(state, &pickup).await;
    state.wake_worker();
    Pickup(pickup)
}

#[derive(Default)]
pub struct PickupsQuery;

#[Object]
impl PickupsQuery {
    /// The city's current rate card: each material's price per kg in force now.
    async fn rate_card(&self, ctx: &Context<'_>, city: String) -> AppResult<Vec<Rate>> {
        Ok(rates::rate_card(&ctx.state().db, &city, Utc::now())
            .await?
            .into_iter()
            .map(Rate)
            .collect())
    }

    /// The rate of one material in a city at a moment (null when none was in force).
    async fn rate_at(
        &self,
        ctx: &Context<'_>,
        city: String,
        category_id: ID,
        at: DateTime<Utc>,
    ) -> AppResult<Option<Rate>> {
        let category = parse_id("categoryId", &category_id)?;
        Ok(rates::rate_at(&ctx.state().db, &city, category, at)
            .await?
            .map(Rate))
    }

    /// Slots with room left between `from` and `to` (at most 31 days) of approved collectors
    /// whose service area covers one of the caller's addresses, soonest first.
    async fn pickup_slots(
        &self,
        ctx: &Context<'_>,
        address_id: ID,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> AppResult<Vec<PickupSlot>> {
        let viewer = ctx.viewer()?;
        let address = parse_id("addressId", &address_id)?;
        Ok(slots::open_slots(
            &ctx.state().db,
            viewer.user_id,
            address,
            from,
            to,
            Utc::now(),
        )
        .await?
        .into_iter()
        .map(PickupSlot)
        .collect())
    }

    /// Pickups the caller may see, newest first: booked by the caller, collected by the
    /// caller's shop, or (admins) all. `as` narrows to one side.
    async fn pickups(
        &self,
        ctx: &Context<'_>,
        filter: Option<PickupFilter>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(name = "as")] view_as: Option<PickupRole>,
    ) -> AppResult<Connection<Cursor, Pickup, ConnectionFields>> {
        let viewer = ctx.viewer()?;
        let page = Page::<Cursor>::new(first, after)?;
        let db = &ctx.state().db;
        let scope = match view_as {
            Some(PickupRole::Household) => Scope::Household(viewer.user_id),
            Some(PickupRole::Vendor) => {
                Scope::Vendor(vendors::require_own(db, viewer.user_id).await?.id)
            }
            None if viewer.is_admin() => Scope::All,
            None => Scope::Mine {
                household: viewer.user_id,
                vendor: vendors::of_user(db, viewer.user_id).await?.map(|v| v.id),
            },
        };
        let status = filter.unwrap_or_default().status.map(Into::into);
        let (rows, total) = queries::page(db, scope, status, &page).await?;
        Ok(pickup_connection(&page, rows, total))
    }

    /// One pickup the caller may see (NOT_FOUND otherwise); a collector sees the pickups
    /// offered to it while the offer is open.
    async fn pickup(&self, ctx: &Context<'_>, id: ID) -> AppResult<Option<Pickup>> {
        let viewer = ctx.viewer()?;
        let id = parse_id("id", &id)?;
        let (pickup, _) = service::visible(&ctx.state().db, &viewer, id).await?;
        Ok(Some(Pickup(pickup)))
    }

    /// Vendor: pickups offered to the caller's shop in their open round, newest first; the
    /// first collector to `acceptPickup` gets one.
    async fn pickup_offers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Connection<Cursor, Pickup, ConnectionFields>> {
        let viewer = ctx.viewer()?;
        let page = Page::<Cursor>::new(first, after)?;
        let db = &ctx.state().db;
        let vendor = vendors::require_own(db, viewer.user_id).await?;
        let (rows, total) = queries::offers_page(db, vendor.id, &page).await?;
        Ok(pickup_connection(&page, rows, total))
    }

    /// What the caller recycled through completed pickups: kg by material, money earned.
    async fn recycling_summary(&self, ctx: &Context<'_>) -> AppResult<RecyclingSummary> {
        let viewer = ctx.viewer()?;
        let s = queries::recycling_summary(&ctx.state().db, viewer.user_id).await?;
        Ok(RecyclingSummary {
            pickups: s.pickups,
            total_kg: s.weight_grams as f64 / 1000.0,
            total_grams: s.weight_grams,
            earned: Paise(s.earned),
            earned_money: Money::inr(s.earned),
            by_material: s.by_material.into_iter().map(MaterialRecycled).collect(),
        })
    }

    /// A collector's rating from households' pickup reviews.
    async fn collector_rating(
        &self,
        ctx: &Context<'_>,
        vendor_id: ID,
    ) -> AppResult<CollectorRating> {
        let vendor = parse_id("vendorId", &vendor_id)?;
        let (rating, count) = queries::collector_rating(&ctx.state().db, vendor).await?;
        Ok(CollectorRating { rating, count })
    }
}
