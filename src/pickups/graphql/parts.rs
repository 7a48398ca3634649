//! The parts of a pickup (items, weighed lines, history, review), the recycling summary, the
//! pickup figures of vendor analytics, and the `pickupUpdated` event.

use super::types::{Pickup, PickupActor, PickupStatus};
use crate::{
    catalog::{graphql::Category, loaders::CategoryById},
    error::AppResult,
    graphql::{
        context::ContextExt as _,
        scalars::{Money, Paise},
    },
    orders::graphql::VendorAnalytics,
    pickups::service::{self, queries},
};
use async_graphql::{ComplexObject, Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{
    pickup_items, pickup_lines, pickup_reviews,
    pickup_status_history::{self},
    pickups::PickupStatus as StatusModel,
};
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
