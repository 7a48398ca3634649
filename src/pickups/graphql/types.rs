//! Output and input types of pickups. Each output wraps an entity model, so a new column
//! never reaches the API by accident; nested objects load through the request's DataLoader.

use crate::{
    accounts::graphql::User,
    catalog::{graphql::Category, loaders::CategoryById},
    error::AppResult,
    graphql::{
        context::ContextExt as _,
        scalars::{Money, Paise},
    },
    orders::{graphql::VendorAnalytics, loaders::UserById},
    pickups::{
        loaders::{PickupHistory, PickupItems, PickupLines, ReviewOfPickup, SlotById},
        service::{self, queries},
    },
    vendors::{graphql::Vendor, loaders::VendorById},
};
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{
    pickup_items, pickup_lines, pickup_rates, pickup_reviews, pickup_slots,
    pickup_status_history::{self, PickupActor as ActorModel},
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
        (service::transitions::MAX_CODE_ATTEMPTS - self.0.code_attempts).max(0)
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

    /// The pickup's chat room. Pickups have no chat room yet (chat rooms belong to orders):
    /// always null.
    async fn chat_room(&self) -> Option<crate::chat::graphql::ChatRoom> {
        None
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

/// One material a household says it has.
pub struct PickupItem(pub pickup_items::Model);

#[Object]
impl PickupItem {
    /// The material.
    async fn category(&self, ctx: &Context<'_>) -> AppResult<Option<Category>> {
        Ok(ctx
            .loader()
            .load_one(CategoryById(self.0.category_id))
            .await?
            .map(Category))
    }

    /// The household's estimate, in kg.
    async fn estimated_kg(&self) -> f64 {
        self.0.estimated_grams as f64 / 1000.0
    }

    /// The household's estimate, in grams.
    async fn estimated_grams(&self) -> i64 {
        self.0.estimated_grams
    }

    /// The price per kg locked at booking, in paise.
    async fn rate(&self) -> Paise {
        Paise(self.0.price_per_kg)
    }
}

/// What the scale said for one material.
pub struct PickupLine(pub pickup_lines::Model);

#[Object]
impl PickupLine {
    /// The material.
    async fn category(&self, ctx: &Context<'_>) -> AppResult<Option<Category>> {
        Ok(ctx
            .loader()
            .load_one(CategoryById(self.0.category_id))
            .await?
            .map(Category))
    }

    /// The weight, in grams.
    async fn weight_grams(&self) -> i64 {
        self.0.weight_grams
    }

    /// The weight, in kg.
    async fn weight_kg(&self) -> f64 {
        self.0.weight_grams as f64 / 1000.0
    }

    /// The locked price per kg, in paise.
    async fn rate(&self) -> Paise {
        Paise(self.0.price_per_kg)
    }

    /// round(weightGrams × rate / 1000), in paise.
    async fn amount(&self) -> Paise {
        Paise(self.0.amount)
    }

    /// The amount with currency and formatting.
    async fn amount_money(&self) -> Money {
        Money::inr(self.0.amount)
    }
}

/// A status a pickup entered.
pub struct PickupStatusChange(pub pickup_status_history::Model);

#[Object]
impl PickupStatusChange {
    /// The status it entered.
    async fn status(&self) -> PickupStatus {
        self.0.status.into()
    }

    /// The status it left; null for the booking.
    async fn from_status(&self) -> Option<PickupStatus> {
        self.0.from_status.map(Into::into)
    }

    /// Why, as given by whoever moved it.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// Who moved it.
    async fn actor(&self) -> PickupActor {
        self.0.actor.into()
    }

    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A household's rating of a collector after a completed pickup.
pub struct PickupReview(pub pickup_reviews::Model);

#[Object]
impl PickupReview {
    /// The review's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// 1 to 5.
    async fn rating(&self) -> i32 {
        self.0.rating
    }

    /// What the household wrote.
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }

    /// When.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A collector's rating from households.
#[derive(SimpleObject)]
pub struct CollectorRating {
    /// The average rating, 1 to 5; null without reviews.
    pub rating: Option<f64>,
    /// How many reviews.
    pub count: i64,
}

/// What a household recycled through completed pickups.
#[derive(SimpleObject)]
pub struct RecyclingSummary {
    /// Completed pickups.
    pub pickups: i64,
    /// Weight recycled, in kg.
    pub total_kg: f64,
    /// Weight recycled, in grams.
    pub total_grams: i64,
    /// Money earned, in paise.
    pub earned: Paise,
    /// Money earned with currency and formatting.
    pub earned_money: Money,
    /// Kg and money per material, heaviest first.
    pub by_material: Vec<MaterialRecycled>,
}

/// One material of a recycling summary.
pub struct MaterialRecycled(pub queries::MaterialTotal);

#[Object]
impl MaterialRecycled {
    /// The material.
    async fn category(&self, ctx: &Context<'_>) -> AppResult<Option<Category>> {
        Ok(ctx
            .loader()
            .load_one(CategoryById(self.0.category_id))
            .await?
            .map(Category))
    }

    /// Weight recycled, in kg.
    async fn kg(&self) -> f64 {
        self.0.weight_grams as f64 / 1000.0
    }

    /// Weight recycled, in grams.
    async fn weight_grams(&self) -> i64 {
        self.0.weight_grams
    }

    /// Money earned for it, in paise.
    async fn earned(&self) -> Paise {
        Paise(self.0.amount)
    }
}

/// How many of a vendor's pickups are in one status.
#[derive(SimpleObject)]
pub struct PickupStatusCount {
    /// The status.
    pub status: PickupStatus,
    /// How many pickups.
    pub count: i64,
}

/// A vendor's pickups booked in the analytics period.
#[derive(SimpleObject)]
pub struct PickupAnalytics {
    /// Pickups per status (statuses with none left out).
    pub by_status: Vec<PickupStatusCount>,
    /// Every pickup of the period.
    pub total: i64,
    /// Paid to households for completed pickups, in paise.
    pub paid_to_households: Paise,
    /// Commission charged on completed pickups, in paise.
    pub commission: Paise,
    /// Weight collected in completed pickups, in kg.
    pub collected_kg: f64,
}

#[ComplexObject]
impl VendorAnalytics {
    /// The vendor's pickups booked in the period (households selling to it).
    async fn pickups(&self, ctx: &Context<'_>) -> AppResult<PickupAnalytics> {
        let f =
            queries::vendor_figures(&ctx.state().db, self.vendor_id, self.from, self.to).await?;
        Ok(PickupAnalytics {
            total: f.by_status.iter().map(|(_, n)| n).sum(),
            by_status: f
                .by_status
                .into_iter()
                .map(|(status, count)| PickupStatusCount {
                    status: status.into(),
                    count,
                })
                .collect(),
            paid_to_households: Paise(f.paid_to_households),
            commission: Paise(f.commission),
            collected_kg: f.weight_grams as f64 / 1000.0,
        })
    }
}

/// What happened to a pickup, as `pickupUpdated` delivers it.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PickupEventKind {
    /// Its status changed.
    Status,
    /// The collector shared a location.
    Location,
}

/// A change of a pickup, or the collector's location.
pub struct PickupEvent(pub crate::pickups::events::PickupEvent);

#[Object]
impl PickupEvent {
    /// What happened.
    async fn kind(&self) -> PickupEventKind {
        match self.0.kind {
            crate::pickups::events::EventKind::Status => PickupEventKind::Status,
            crate::pickups::events::EventKind::Location => PickupEventKind::Location,
        }
    }

    /// The pickup's status when it happened.
    async fn status(&self) -> Option<PickupStatus> {
        use sea_orm::ActiveEnum as _;
        StatusModel::try_from_value(&self.0.status)
            .ok()
            .map(Into::into)
    }

    /// The collector's latitude (LOCATION events).
    async fn latitude(&self) -> Option<f64> {
        self.0.latitude
    }

    /// The collector's longitude (LOCATION events).
    async fn longitude(&self) -> Option<f64> {
        self.0.longitude
    }

    /// When it happened.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// The pickup as it is now.
    async fn pickup(&self, ctx: &Context<'_>) -> AppResult<Option<Pickup>> {
        Ok(service::find(&ctx.state().db, self.0.pickup_id)
            .await
            .ok()
            .map(Pickup))
    }
}

/// A new rate for a city and material.
#[derive(InputObject)]
pub struct RateInput {
    /// The city (matched without regard to case or extra spaces).
    pub city: String,
    /// The material.
    pub category_id: ID,
    /// Paise per kg, more than 0.
    pub price_per_kg: Paise,
    /// From when (default now; never in the past).
    pub effective_from: Option<DateTime<Utc>>,
}

/// A pickup window a collector publishes.
#[derive(InputObject)]
pub struct SlotInput {
    /// When it opens (in the future).
    pub start: DateTime<Utc>,
    /// When it closes (at most 12 hours later).
    pub end: DateTime<Utc>,
    /// How many pickups it takes, 1 to 100.
    pub capacity: i32,
}

/// One material and its estimated weight.
#[derive(InputObject)]
pub struct PickupItemInput {
    /// The material.
    pub category_id: ID,
    /// Estimated weight in kg (rounded to the gram).
    pub estimated_kg: f64,
}

/// A new pickup.
#[derive(InputObject)]
pub struct BookPickupInput {
    /// One of the household's addresses, with coordinates.
    pub address_id: ID,
    /// A slot from `pickupSlots`; without one, the pickup is offered to the nearest collectors.
    pub slot_id: Option<ID>,
    /// Materials with estimated weights.
    pub items: Vec<PickupItemInput>,
    /// For the collector.
    pub note: Option<String>,
    /// Any unique string per attempt: retrying with the same key never books twice.
    pub idempotency_key: String,
}

/// What the scale said for one material.
#[derive(InputObject)]
pub struct WeighingLineInput {
    /// The material.
    pub category_id: ID,
    /// The weight in grams, more than 0.
    pub weight_grams: i32,
}

/// Narrows `pickups`.
#[derive(InputObject, Default)]
pub struct PickupFilter {
    /// Only pickups in this status.
    pub status: Option<PickupStatus>,
}
