//! The pickup, its rate and slot types, and the enums, as the API shows them. Each output
//! wraps an entity model, so a new column never reaches the API by accident; nested objects
//! load through the request's DataLoader.

use super::parts::{PickupItem, PickupLine, PickupReview, PickupStatusChange};
use crate::{
    accounts::graphql::User,
    catalog::{graphql::Category, loaders::CategoryById},
    error::AppResult,
    graphql::{
        context::ContextExt as _,
        scalars::{Money, Paise},
    },
    orders::loaders::UserById,
    pickups::{
        loaders::{PickupHistory, PickupItems, PickupLines, ReviewOfPickup, SlotById},
        service::{self},
    },
    vendors::{graphql::Vendor, loaders::VendorById},
};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{
    pickup_rates, pickup_slots,
    pickup_status_history::PickupActor as ActorModel,
    pickups::{self, PickupStatus as StatusModel},
};

/// Where a pickup is in its lifecycle.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PickupStatus {
    /// Booked without a slot and offered to nearby collectors; nobody took it yet.
    Requested,
    /// A collector took it; the quote plus a margin is held from the collector's wallet.
    Assigned,
    /// The collector is on the way (their location is shared live).
    EnRoute,
    /// The collector is at the door.
    Arrived,
    /// Weighed: the final amount is known and the household holds the handover code.
    Weighed,
    /// Paid: the final amount is in the household's wallet.
    Completed,
    /// Cancelled before the collector arrived, or by support after a dispute.
    Cancelled,
    /// No collector accepted the offer in time.
    Expired,
    /// The household disputes the weighing; support settles or cancels it.
    Disputed,
}

impl From<StatusModel> for PickupStatus {
    fn from(s: StatusModel) -> Self {
        match s {
            StatusModel::Requested => Self::Requested,
            StatusModel::Assigned => Self::Assigned,
            StatusModel::EnRoute => Self::EnRoute,
            StatusModel::Arrived => Self::Arrived,
            StatusModel::Weighed => Self::Weighed,
            StatusModel::Completed => Self::Completed,
            StatusModel::Cancelled => Self::Cancelled,
            StatusModel::Expired => Self::Expired,
            StatusModel::Disputed => Self::Disputed,
        }
    }
}

impl From<PickupStatus> for StatusModel {
    fn from(s: PickupStatus) -> Self {
        match s {
            PickupStatus::Requested => Self::Requested,
            PickupStatus::Assigned => Self::Assigned,
            PickupStatus::EnRoute => Self::EnRoute,
            PickupStatus::Arrived => Self::Arrived,
            PickupStatus::Weighed => Self::Weighed,
            PickupStatus::Completed => Self::Completed,
            PickupStatus::Cancelled => Self::Cancelled,
            PickupStatus::Expired => Self::Expired,
            PickupStatus::Disputed => Self::Disputed,
        }
    }
}

/// Who moved a pickup.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PickupActor {
    /// The household selling.
    Household,
    /// The collector (vendor).
    Vendor,
    /// Support staff.
    Admin,
    /// The platform itself (offers that ran out).
    System,
}

impl From<ActorModel> for PickupActor {
    fn from(a: ActorModel) -> Self {
        match a {
            ActorModel::Household => Self::Household,
            ActorModel::Vendor => Self::Vendor,
            ActorModel::Admin => Self::Admin,
            ActorModel::System => Self::System,
        }
    }
}

/// Which side of their pickups a user lists.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PickupRole {
    /// Pickups the user booked.
    Household,
    /// Pickups the user's shop collects.
    Vendor,
}

/// A rate card entry: what a city pays per kg of one material, from a moment on.
pub struct Rate(pub pickup_rates::Model);

#[Object]
impl Rate {
    /// The rate's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The city, as the admin wrote it.
    async fn city(&self) -> &str {
        &self.0.city
    }

    /// The material.
    async fn category(&self, ctx: &Context<'_>) -> AppResult<Option<Category>> {
        Ok(ctx
            .loader()
            .load_one(CategoryById(self.0.category_id))
            .await?
            .map(Category))
    }

    /// Price per kilogram, in paise.
    async fn price_per_kg(&self) -> Paise {
        Paise(self.0.price_per_kg)
    }

    /// The price per kilogram with currency and formatting.
    async fn price_per_kg_money(&self) -> Money {
        Money::inr(self.0.price_per_kg)
    }

    /// From when the rate is in force (until a newer one starts).
    async fn effective_from(&self) -> DateTime<Utc> {
        self.0.effective_from
    }
}

/// A window in which a collector comes to households' doors.
pub struct PickupSlot(pub pickup_slots::Model);

#[Object]
impl PickupSlot {
    /// The slot's id (give it to `bookPickup`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The collector.
    async fn vendor(&self, ctx: &Context<'_>) -> AppResult<Option<Vendor>> {
        Ok(ctx
            .loader()
            .load_one(VendorById(self.0.vendor_id))
            .await?
            .map(Vendor))
    }

    /// When the window opens.
    async fn start(&self) -> DateTime<Utc> {
        self.0.starts_at
    }

    /// When the window closes.
    async fn end(&self) -> DateTime<Utc> {
        self.0.ends_at
    }

    /// How many pickups the window takes in all.
    async fn capacity(&self) -> i32 {
        self.0.capacity
    }

    /// How many more pickups it takes.
    async fn remaining(&self) -> i32 {
        self.0.remaining
    }

    /// Whether the collector took it off the list.
    async fn removed(&self) -> bool {
        self.0.removed_at.is_some()
    }
}

/// A household selling scrap at its door, by weight at the rates locked at booking.
pub struct Pickup(pub pickups::Model);

#[Object]
impl Pickup {
    /// The pickup's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Human-friendly number, e.g. `PK-2026-000123`.
    async fn number(&self) -> &str {
        &self.0.number
    }

    /// Where it is in its lifecycle.
    async fn status(&self) -> PickupStatus {
        self.0.status.into()
    }

    /// The household selling.
    async fn household(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(ctx
            .loader()
            .load_one(UserById(self.0.household_id))
            .await?
            .map(User))
    }

    /// The collector; null while it is only offered.
    async fn vendor(&self, ctx: &Context<'_>) -> AppResult<Option<Vendor>> {
        let Some(id) = self.0.vendor_id else {
            return Ok(None);
        };
        Ok(ctx.loader().load_one(VendorById(id)).await?.map(Vendor))
    }

    /// The address, as it was when the pickup was booked.
    async fn address(&self) -> PickupAddress {
        let p = &self.0;
        PickupAddress {
            label: p.address_label.clone(),
            line1: p.address_line1.clone(),
            line2: p.address_line2.clone(),
            city: p.address_city.clone(),
            state: p.address_state.clone(),
            pincode: p.address_pincode.clone(),
            latitude: p.address_latitude,
            longitude: p.address_longitude,
        }
    }

    /// The slot it was booked into; null for a pickup offered to nearby collectors.
    async fn slot(&self, ctx: &Context<'_>) -> AppResult<Option<PickupSlot>> {
        let Some(id) = self.0.slot_id else {
            return Ok(None);
        };
        Ok(ctx.loader().load_one(SlotById(id)).await?.map(PickupSlot))
    }

    /// What the household said it has, with the rates locked at booking.
    async fn items(&self, ctx: &Context<'_>) -> AppResult<Vec<PickupItem>> {
        Ok(ctx
            .loader()
            .load_one(PickupItems(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(PickupItem)
            .collect())
    }

    /// Σ locked rate × estimated weight, in paise.
    async fn quote(&self) -> Paise {
        Paise(self.0.quote)
    }

    /// The quote with currency and formatting.
    async fn quote_money(&self) -> Money {
        Money::inr(self.0.quote)
    }

    /// What the scale said, priced at the locked rates (empty until weighed).
    async fn lines(&self, ctx: &Context<'_>) -> AppResult<Vec<PickupLine>> {
        Ok(ctx
            .loader()
            .load_one(PickupLines(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(PickupLine)
            .collect())
    }

    /// What the household is paid (Σ line amounts), in paise; null until weighed.
    async fn final_amount(&self) -> Option<Paise> {
        self.0.final_amount.map(Paise)
    }

    /// The final amount with currency and formatting.
    async fn final_amount_money(&self) -> Option<Money> {
        self.0.final_amount.map(Money::inr)
    }

    /// The platform's commission on the final amount, charged to the collector, in paise.
    async fn commission(&self) -> Option<Paise> {
        self.0.commission.map(Paise)
    }

    /// The one-time code the household gives the collector once it agrees with the weighing.
    /// Only the household sees it, and only while the pickup is WEIGHED.
    async fn handover_code(&self, ctx: &Context<'_>) -> Option<String> {
        if self.0.status != StatusModel::Weighed {
            return None;
        }
        let viewer = ctx.auth().optional_viewer().ok().flatten()?;
        (viewer.user_id == self.0.household_id)
            .then(|| self.0.handover_code.clone())
            .flatten()
    }

    /// Wrong handover codes the collector may still enter before completion locks.
    async fn code_attempts_left(&self) -> i32 {
        (service::completion::MAX_CODE_ATTEMPTS - self.0.code_attempts).max(0)
    }

    /// The photo of the scale, once weighed (readable by the household, the collector and
    /// admins).
    async fn weighing_photo_url(&self) -> Option<String> {
        self.0
            .weighing_photo_key
            .as_deref()
            .map(crate::storage::url)
    }

    /// The collector's last shared location, while EN_ROUTE.
    async fn collector_location(&self) -> Option<CollectorLocation> {
        match (
            self.0.collector_latitude,
            self.0.collector_longitude,
            self.0.located_at,
        ) {
            (Some(latitude), Some(longitude), Some(at)) => Some(CollectorLocation {
                latitude,
                longitude,
                at,
            }),
            _ => None,
        }
    }

    /// When the open offer round ends (REQUESTED only).
    async fn offer_expires_at(&self) -> Option<DateTime<Utc>> {
        (self.0.status == StatusModel::Requested)
            .then_some(self.0.offer_expires_at)
            .flatten()
    }

    /// The household's note to the collector.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// Why the household disputes the weighing.
    async fn dispute_reason(&self) -> Option<&str> {
        self.0.dispute_reason.as_deref()
    }

    /// Why it was cancelled.
    async fn cancel_reason(&self) -> Option<&str> {
        self.0.cancel_reason.as_deref()
    }

    /// Every status it entered, oldest first.
    async fn status_history(&self, ctx: &Context<'_>) -> AppResult<Vec<PickupStatusChange>> {
        Ok(ctx
            .loader()
            .load_one(PickupHistory(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(PickupStatusChange)
            .collect())
    }

    /// The chat room of the household and the collector: created when a collector takes the
    /// pickup, so null only before one does.
    async fn chat_room(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::chat::graphql::ChatRoom>> {
        crate::chat::graphql::room_of_pickup(ctx, self.0.id).await
    }

    /// The household's review of the collector, once given.
    async fn review(&self, ctx: &Context<'_>) -> AppResult<Option<PickupReview>> {
        Ok(ctx
            .loader()
            .load_one(ReviewOfPickup(self.0.id))
            .await?
            .map(PickupReview))
    }

    /// When it was booked.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// When it was weighed.
    async fn weighed_at(&self) -> Option<DateTime<Utc>> {
        self.0.weighed_at
    }

    /// When it was paid.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
}

/// A pickup address frozen at booking.
#[derive(SimpleObject)]
pub struct PickupAddress {
    /// "Home", "Office", …
    pub label: String,
    /// First line.
    pub line1: String,
    /// Second line.
    pub line2: Option<String>,
    /// City (the rate card's city).
    pub city: String,
    /// State.
    pub state: String,
    /// PIN code.
    pub pincode: String,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
}

/// Where the collector was last.
#[derive(SimpleObject, Clone)]
pub struct CollectorLocation {
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// When it was shared.
    pub at: DateTime<Utc>,
}
