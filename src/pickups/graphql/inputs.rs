//! The pickups' input types (names as in API.md).

use async_graphql::{ID, InputObject};
use chrono::{DateTime, Utc};

use super::types::PickupStatus;
use crate::graphql::scalars::Paise;
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
