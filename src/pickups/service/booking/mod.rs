//! Booking a pickup: the quote at the rates in force (locked on its items), into a vendor's slot
//! (a booking of the slot taken, the collector's hold placed, the chat room opened: ASSIGNED)
//! or offered to the nearest covering vendors (REQUESTED, see [`super::offers`]). Replaying the
//! idempotency key with the same input returns the first pickup.
//!
//! [`single`] books one pickup in its own transaction; [`queue`] is the group commit the API
//! uses for slot bookings (many in one transaction, [`batch`], each with its own answer, by
//! the same rules); the checks and rows both build on are here.

mod batch;
pub mod queue;
pub mod single;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{addresses, pickup_items, pickup_rates, pickup_slots, pickups};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _,
};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

pub use super::offers::OfferRules;
pub use queue::BookingQueue;
pub use single::book_pickup;

use super::common::{Notice, line_amount};
use crate::error::{AppError, AppResult};

/// Most materials one pickup lists.
pub const MAX_ITEMS: usize = 20;

/// The heaviest estimate per material, in kg.
pub const MAX_KG: f64 = 100_000.0;

/// What a booking notifies both parties as.
const BOOKED_KIND: &str = "PICKUP_BOOKED";

#[derive(Debug, Clone)]
pub struct PickupItemInput {
    pub category_id: Uuid,
    pub estimated_kg: f64,
}

#[derive(Debug, Clone)]
pub struct BookPickupInput {
    pub address_id: Uuid,
    pub slot_id: Option<Uuid>,
    pub items: Vec<PickupItemInput>,
    pub note: Option<String>,
    pub idempotency_key: String,
}

/// The pickup, and whether this call created it (false for a replayed idempotency key).
#[derive(Debug, Clone)]
pub struct Booked {
    pub pickup: pickups::Model,
    pub created: bool,
}

/// A booking whose input passed the checks that need no database.
#[derive(Debug, Clone)]
pub(super) struct Checked {
    address_id: Uuid,
    slot_id: Option<Uuid>,
    /// (category, grams), in the order given.
    items: Vec<(Uuid, i64)>,
    note: Option<String>,
    key: String,
    hash: String,
}

fn check_input(input: BookPickupInput) -> AppResult<Checked> {
    let key = input.idempotency_key.trim().to_owned();
    if key.is_empty() || key.chars().count() > 128 {
        return Err(AppError::bad_input(
            "idempotencyKey",
            "must be 1 to 128 characters",
        ));
    }
    if input.items.is_empty() || input.items.len() > MAX_ITEMS {
        return Err(AppError::bad_input(
            "items",
            format!("a pickup lists 1 to {MAX_ITEMS} materials"),
        ));
    }
    let mut seen = HashSet::new();
    let mut items = Vec::with_capacity(input.items.len());
    for item in &input.items {
        let kg = item.estimated_kg;
        if !kg.is_finite() || kg <= 0.0 || kg > MAX_KG {
            return Err(AppError::bad_input(
                "items",
                format!("each estimate is more than 0 and at most {MAX_KG} kg"),
            ));
        }
        // Grams are whole numbers: the estimate is rounded to the gram.
        let grams = (kg * 1000.0).round() as i64;
        if grams < 1 {
            return Err(AppError::bad_input(
                "items",
                "each estimate is at least 1 g",
            ));
        }
        if !seen.insert(item.category_id) {
            return Err(AppError::bad_input(
                "items",
                "list each material once, with its total weight",
            ));
        }
        items.push((item.category_id, grams));
    }
    let note = input
        .note
        .as_ref()
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(AppError::bad_input(
            "note",
            "must be at most 1,000 characters",
        ));
    }
    let mut sorted: Vec<String> = items.iter().map(|(c, g)| format!("{c}x{g}")).collect();
    sorted.sort();
    let canonical = format!(
        "{}|{}|{}|{}",
        sorted.join(","),
        input.address_id,
        input.slot_id.map(|s| s.to_string()).unwrap_or_default(),
        note.as_deref().unwrap_or_default()
    );
    Ok(Checked {
        address_id: input.address_id,
        slot_id: input.slot_id,
        items,
        note,
        key,
        hash: hex::encode(Sha256::digest(canonical.as_bytes())),
    })
}

fn key_reused() -> AppError {
    AppError::Conflict("this idempotency key was already used for a different pickup".into())
}

/// The household's pickup booked with `key`: `Some` when it was booked with the same input,
/// CONFLICT when with another.
async fn by_key(
    conn: &impl ConnectionTrait,
    household: Uuid,
    key: &str,
    hash: &str,
) -> AppResult<Option<pickups::Model>> {
    let existing = pickups::Entity::find()
        .filter(pickups::Column::HouseholdId.eq(household))
        .filter(pickups::Column::IdempotencyKey.eq(key))
        .one(conn)
        .await?;
    match existing {
        Some(p) if p.request_hash == hash => Ok(Some(p)),
        Some(_) => Err(key_reused()),
        None => Ok(None),
    }
}

fn no_such_address() -> AppError {
    AppError::bad_input("addressId", "no such address")
}

fn no_such_slot() -> AppError {
    AppError::bad_input("slotId", "no such slot")
}

fn slot_full() -> AppError {
    AppError::bad_input("slotId", "this slot is full or no longer open")
}

/// What a collector's wallet too low for the hold answers the household.
fn collector_short(err: AppError) -> AppError {
    match err {
        AppError::InsufficientFunds(_) => AppError::InsufficientFunds(
            "this collector cannot take bookings right now; choose another slot".into(),
        ),
        other => other,
    }
}

/// The items of a booking at `card` (the rates in force in the address's city), and the quote:
/// Σ round(grams × rate / 1000). BAD_USER_INPUT for a material without a rate there or a quote
/// of nothing.
fn priced_items(
    checked: &Checked,
    card: &HashMap<Uuid, pickup_rates::Model>,
    city: &str,
) -> AppResult<(Vec<pickup_items::ActiveModel>, i64)> {
    let mut items = Vec::with_capacity(checked.items.len());
    let mut quote: i64 = 0;
    for (position, (category, grams)) in checked.items.iter().enumerate() {
        let rate = card.get(category).ok_or_else(|| {
            AppError::bad_input("items", format!("a material has no rate in {city} yet"))
        })?;
        quote = quote
            .checked_add(line_amount(*grams, rate.price_per_kg)?)
            .ok_or_else(|| AppError::bad_input("items", "the quote is too large"))?;
        items.push(pickup_items::ActiveModel {
            id: Set(crate::db::new_id()),
            pickup_id: Set(Uuid::nil()),
            category_id: Set(*category),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            estimated_grams: Set(*grams),
            price_per_kg: Set(rate.price_per_kg),
            rate_id: Set(rate.id),
        });
    }
    if quote <= 0 {
        return Err(AppError::bad_input(
            "items",
            "the estimate is worth nothing yet",
        ));
    }
    Ok((items, quote))
}

/// The items of `pickup_id`.
fn items_of(
    pickup_id: Uuid,
    items: Vec<pickup_items::ActiveModel>,
) -> impl Iterator<Item = pickup_items::ActiveModel> {
    items.into_iter().map(move |mut item| {
        item.pickup_id = Set(pickup_id);
        item
    })
}

/// What the household is told when its pickup is booked.
fn household_notice(pickup: &pickups::Model) -> Notice {
    (
        pickup.household_id,
        BOOKED_KIND.to_owned(),
        format!("Pickup {} booked", pickup.number),
        format!(
            "Your pickup {} is booked, estimated at {}. We will tell you when a collector is on the way.",
            pickup.number,
            crate::money::format_inr(pickup.quote)
        ),
    )
}

/// What the collector is told when a household books into its slot.
fn collector_notice(
    vendor_user: Uuid,
    pickup: &pickups::Model,
    slot: &pickup_slots::Model,
) -> Notice {
    (
        vendor_user,
        BOOKED_KIND.to_owned(),
        format!("New pickup {}", pickup.number),
        format!(
            "A household booked pickup {} in your slot at {}, estimated at {}.",
            pickup.number,
            slot.starts_at.format("%Y-%m-%d %H:%M UTC"),
            crate::money::format_inr(pickup.quote)
        ),
    )
}

/// A new REQUESTED pickup of `household` at `address`, not stored yet.
#[allow(clippy::too_many_arguments)]
fn new_pickup(
    id: Uuid,
    number: String,
    household: Uuid,
    address: &addresses::Model,
    (lat, lon): (f64, f64),
    checked: &Checked,
    quote: i64,
    now: DateTime<Utc>,
) -> pickups::Model {
    pickups::Model {
        id,
        number,
        household_id: household,
        vendor_id: None,
        slot_id: None,
        status: pickups::PickupStatus::Requested,
        address_id: Some(address.id),
        address_label: address.label.clone(),
        address_line1: address.line1.clone(),
        address_line2: address.line2.clone(),
        address_city: address.city.clone(),
        address_state: address.state.clone(),
        address_pincode: address.pincode.clone(),
        address_latitude: lat,
        address_longitude: lon,
        note: checked.note.clone(),
        quote,
        hold_id: None,
        final_amount: None,
        commission: None,
        commission_bps: None,
        handover_code: None,
        code_attempts: 0,
        weighing_photo_key: None,
        offer_round: 0,
        offer_expires_at: None,
        collector_latitude: None,
        collector_longitude: None,
        located_at: None,
        dispute_reason: None,
        cancel_reason: None,
        idempotency_key: checked.key.clone(),
        request_hash: checked.hash.clone(),
        created_at: now,
        updated_at: now,
        weighed_at: None,
        completed_at: None,
    }
}
