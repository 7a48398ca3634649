//! Booking a pickup: the quote at the rates in force (locked on its items), into a vendor's slot
//! (a booking of the slot taken, the collector's hold placed, the chat room opened: ASSIGNED)
//! or offered to the nearest covering vendors (REQUESTED, see [`super::offers`]). Replaying the
//! idempotency key with the same input returns the first pickup.

use std::collections::HashSet;

use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use entity::{
    addresses, pickup_items,
    pickup_status_history::PickupActor,
    pickups::{self, PickupStatus},
    vendors,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _,
    QueryFilter as _, TransactionTrait as _,
};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

pub use super::offers::OfferRules;
use super::{
    common::{
        Notice, line_amount, next_number, open_chat_room, record_history, reference, tell_all,
    },
    offers::{check_vendor_serves, commission_and_margin, hold_amount, offer},
    rates, slots,
};
use crate::{
    accounts::service as accounts,
    error::{AppError, AppResult},
    vendors::service as vendors_service,
    wallet::escrow,
};

/// Most materials one pickup lists.
pub const MAX_ITEMS: usize = 20;

/// The heaviest estimate per material, in kg.
pub const MAX_KG: f64 = 100_000.0;

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

struct Checked {
    /// (category, grams), in the order given.
    items: Vec<(Uuid, i64)>,
    note: Option<String>,
    key: String,
    hash: String,
}

fn check_input(input: &BookPickupInput) -> AppResult<Checked> {
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
        items,
        note,
        key,
        hash: hex::encode(Sha256::digest(canonical.as_bytes())),
    })
}

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
        Some(_) => Err(AppError::Conflict(
            "this idempotency key was already used for a different pickup".into(),
        )),
        None => Ok(None),
    }
}

/// Books a pickup in one transaction: the quote at the rates in force now (locked on the
/// items); with a slot, a booking of it is taken and the vendor's hold placed (ASSIGNED); without
/// one, it is offered to the nearest covering vendors (REQUESTED). Replaying the idempotency key
/// with the same input returns the first pickup.
pub async fn book_pickup(
    db: &DatabaseConnection,
    household: Uuid,
    input: BookPickupInput,
    rules: OfferRules,
    now: DateTime<Utc>,
) -> AppResult<Booked> {
    let checked = check_input(&input)?;
    if let Some(pickup) = by_key(db, household, &checked.key, &checked.hash).await? {
        return Ok(Booked {
            pickup,
            created: false,
        });
    }
    let txn = db.begin().await?;
    match book_in(&txn, household, &input, &checked, rules, now).await {
        Ok(pickup) => {
            txn.commit().await?;
            Ok(Booked {
                pickup,
                created: true,
            })
        }
        Err(err) => {
            txn.rollback().await?;
            // A parallel request with the same key won the unique index: answer with it.
            if matches!(err, AppError::Conflict(_))
                && let Some(pickup) = by_key(db, household, &checked.key, &checked.hash).await?
            {
                return Ok(Booked {
                    pickup,
                    created: false,
                });
            }
            Err(err)
        }
    }
}

async fn book_in(
    conn: &impl ConnectionTrait,
    household: Uuid,
    input: &BookPickupInput,
    checked: &Checked,
    rules: OfferRules,
    now: DateTime<Utc>,
) -> AppResult<pickups::Model> {
    let now = now.trunc_subsecs(6);
    let address = accounts::own_address(conn, household, input.address_id)
        .await
        .map_err(|_| AppError::bad_input("addressId", "no such address"))?;
    let location = slots::location_of(&address)?;
    let categories: Vec<Uuid> = checked.items.iter().map(|(c, _)| *c).collect();
    let card = rates::rates_at(conn, &address.city, &categories, now).await?;
    let mut items = Vec::with_capacity(checked.items.len());
    let mut quote: i64 = 0;
    for (position, (category, grams)) in checked.items.iter().enumerate() {
        let rate = card.get(category).ok_or_else(|| {
            AppError::bad_input(
                "items",
                format!("a material has no rate in {} yet", address.city),
            )
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
    let id = crate::db::new_id();
    let number = next_number(conn, now).await?;
    let mut pickup = new_pickup(
        id, number, household, &address, location, checked, quote, now,
    );

    let told_household: Notice = (
        household,
        "PICKUP_BOOKED".to_owned(),
        format!("Pickup {} booked", pickup.number),
        format!(
            "Your pickup {} is booked, estimated at {}. We will tell you when a collector is on the way.",
            pickup.number,
            crate::money::format_inr(quote)
        ),
    );

    match input.slot_id {
        Some(slot_id) => {
            let slot = slots::find(conn, slot_id)
                .await
                .map_err(|_| AppError::bad_input("slotId", "no such slot"))?;
            let vendor = vendors_service::find(conn, slot.vendor_id).await?;
            check_vendor_serves(&vendor, household, location, "slotId")?;
            let (bps, margin) = commission_and_margin(conn, &vendor).await?;
            let told_vendor: Notice = (
                vendor.user_id,
                "PICKUP_BOOKED".to_owned(),
                format!("New pickup {}", pickup.number),
                format!(
                    "A household booked pickup {} in your slot at {}, estimated at {}.",
                    pickup.number,
                    slot.starts_at.format("%Y-%m-%d %H:%M UTC"),
                    crate::money::format_inr(quote)
                ),
            );
            // Rows that lock nothing shared come first: the slot's counter and the collector's
            // wallet, which every booking of that collector needs, stay locked from the moment
            // they are taken until the commit, so they are taken as late as possible.
            tell_all(conn, vec![told_vendor, told_household]).await?;
            slots::take(conn, slot.id, now).await?;
            let hold = escrow::hold(
                conn,
                vendor.user_id,
                hold_amount(quote, margin)?,
                &reference(id),
            )
            .await
            .map_err(|err| match err {
                AppError::InsufficientFunds(_) => AppError::InsufficientFunds(
                    "this collector cannot take bookings right now; choose another slot".into(),
                ),
                other => other,
            })?;
            pickup.status = PickupStatus::Assigned;
            pickup.vendor_id = Some(vendor.id);
            pickup.slot_id = Some(slot.id);
            pickup.hold_id = Some(hold.id);
            pickup.commission_bps = Some(bps);
            insert_pickup(conn, &pickup, items).await?;
            open_chat_room(conn, pickup.id, now).await?;
            record_history(
                conn,
                &pickup,
                None,
                PickupActor::Household,
                Some(household),
                None,
            )
            .await?;
        }
        None => {
            let nearest: Vec<(vendors::Model, f64)> = slots::covering_vendors(conn, location)
                .await?
                .into_iter()
                .filter(|(v, _)| v.user_id != household)
                .take(rules.vendors.max(1))
                .collect();
            if nearest.is_empty() {
                return Err(AppError::bad_input(
                    "addressId",
                    "no collector serves this address yet",
                ));
            }
            let expires = now + Duration::minutes(rules.minutes);
            pickup.offer_round = 1;
            pickup.offer_expires_at = Some(expires);
            insert_pickup(conn, &pickup, items).await?;
            record_history(
                conn,
                &pickup,
                None,
                PickupActor::Household,
                Some(household),
                None,
            )
            .await?;
            offer(conn, &pickup, &nearest, 1, now, expires).await?;
            tell_all(conn, vec![told_household]).await?;
        }
    }
    Ok(pickup)
}

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
        status: PickupStatus::Requested,
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

async fn insert_pickup(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    items: Vec<pickup_items::ActiveModel>,
) -> AppResult<()> {
    pickups::Entity::insert(pickups::ActiveModel::from(pickup.clone()))
        .exec_without_returning(conn)
        .await?;
    let items = items.into_iter().map(|mut item| {
        item.pickup_id = Set(pickup.id);
        item
    });
    pickup_items::Entity::insert_many(items)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}
