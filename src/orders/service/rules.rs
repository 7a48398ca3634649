//! The rules of a new order, pure: the request's shape and canonical hash, the checks of
//! address, vendor, stock and balance, and the rows an accepted order writes. Both placement
//! paths (one order, a batch) decide by these.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike as _, Utc};
use entity::{
    addresses, order_items,
    order_status_history::{self, OrderActor},
    orders::{self, OrderStatus},
    products, vendors,
};
use sea_orm::ActiveValue::Set;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::orders::jobs::{OrderEmail, SendOrderEmail};
use crate::{
    catalog::products as catalog,
    error::{AppError, AppResult},
    geo,
    wallet::escrow,
};

pub const MAX_LINES: usize = 50;

#[derive(Debug, Clone)]
pub struct OrderLineInput {
    pub product_id: Uuid,
    pub quantity: i32,
}

#[derive(Debug, Clone)]
pub struct PlaceOrderInput {
    pub items: Vec<OrderLineInput>,
    pub address_id: Uuid,
    pub note: Option<String>,
    pub idempotency_key: String,
}

/// The order, and whether this call created it (false for a replayed idempotency key).
#[derive(Debug, Clone)]
pub struct Placed {
    pub order: orders::Model,
    pub created: bool,
}

/// An order request whose shape was checked, with its canonical hash (for idempotency).
#[derive(Debug, Clone)]
pub(super) struct CheckedInput {
    pub lines: Vec<OrderLineInput>,
    pub note: Option<String>,
    pub key: String,
    pub hash: String,
}

pub(super) fn check_input(input: PlaceOrderInput) -> AppResult<CheckedInput> {
    let key = input.idempotency_key.trim().to_owned();
    if key.is_empty() || key.chars().count() > 128 {
        return Err(AppError::bad_input(
            "idempotencyKey",
            "must be 1 to 128 characters",
        ));
    }
    if input.items.is_empty() || input.items.len() > MAX_LINES {
        return Err(AppError::bad_input(
            "items",
            format!("an order has 1 to {MAX_LINES} items"),
        ));
    }
    let mut seen = HashSet::new();
    for line in &input.items {
        if !(1..=catalog::MAX_STOCK).contains(&line.quantity) {
            return Err(AppError::bad_input(
                "items",
                "each quantity must be at least 1",
            ));
        }
        if !seen.insert(line.product_id) {
            return Err(AppError::bad_input(
                "items",
                "list each product once, with its total quantity",
            ));
        }
    }
    let note = input
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(AppError::bad_input(
            "note",
            "must be at most 1,000 characters",
        ));
    }
    // The request as a canonical string: same items (in any order), address and note → same hash.
    let mut sorted: Vec<_> = input
        .items
        .iter()
        .map(|l| format!("{}x{}", l.product_id, l.quantity))
        .collect();
    sorted.sort();
    let canonical = format!(
        "{}|{}|{}",
        sorted.join(","),
        input.address_id,
        note.as_deref().unwrap_or_default()
    );
    Ok(CheckedInput {
        lines: input.items,
        note,
        key,
        hash: hex::encode(Sha256::digest(canonical.as_bytes())),
    })
}

pub(super) const PLACED_KIND: &str = "ORDER_PLACED";

pub(super) fn key_reused() -> AppError {
    AppError::Conflict("this idempotency key was already used for a different order".into())
}

pub(super) fn no_such_address() -> AppError {
    AppError::bad_input("addressId", "no such address")
}

/// The address's coordinates, which delivery needs.
pub(super) fn delivery_location(address: &addresses::Model) -> AppResult<(f64, f64)> {
    match (address.latitude, address.longitude) {
        (Some(lat), Some(lon)) => Ok((lat, lon)),
        _ => Err(AppError::bad_input(
            "addressId",
            "the address needs a location (latitude and longitude) for delivery",
        )),
    }
}

/// Each input line with its product (from `found`), and the one vendor they all come from.
pub(super) fn order_lines(
    input: &[OrderLineInput],
    found: &HashMap<Uuid, products::Model>,
) -> AppResult<(Vec<(products::Model, i32)>, Uuid)> {
    let mut lines = Vec::with_capacity(input.len());
    for line in input {
        let product = found
            .get(&line.product_id)
            .filter(|p| p.deleted_at.is_none())
            .ok_or_else(|| AppError::bad_input("items", "a product in the order does not exist"))?;
        lines.push((product.clone(), line.quantity));
    }
    let vendor_id = lines
        .first()
        .map(|(p, _)| p.vendor_id)
        .ok_or_else(|| AppError::bad_input("items", "an order has at least one item"))?;
    if lines.iter().any(|(p, _)| p.vendor_id != vendor_id) {
        return Err(AppError::bad_input(
            "items",
            "all items of an order must come from one vendor",
        ));
    }
    Ok((lines, vendor_id))
}

/// Whether `buyer` may order `lines` from `vendor` for delivery at `location`; the subtotal.
pub(super) fn check_order(
    buyer: Uuid,
    vendor: &vendors::Model,
    lines: &[(products::Model, i32)],
    (lat, lon): (f64, f64),
) -> AppResult<i64> {
    if vendor.kyc_status != vendors::KycStatus::Approved {
        return Err(AppError::bad_input(
            "items",
            "this vendor is not taking orders",
        ));
    }
    if vendor.user_id == buyer {
        return Err(AppError::bad_input(
            "items",
            "you cannot order from your own shop",
        ));
    }
    for (product, _) in lines {
        if !catalog::is_listed(product, vendor) {
            return Err(AppError::bad_input(
                "items",
                format!("{} is not available", product.name),
            ));
        }
    }
    let distance = geo::distance_km(lat, lon, vendor.latitude, vendor.longitude);
    if distance > vendor.service_radius_km {
        return Err(AppError::bad_input(
            "addressId",
            format!(
                "the address is {distance:.1} km from the vendor, outside its {:.1} km service area",
                vendor.service_radius_km
            ),
        ));
    }
    let overflow = || AppError::bad_input("items", "the order total is too large");
    let mut subtotal: i64 = 0;
    for (product, quantity) in lines {
        let line = product
            .price
            .checked_mul(i64::from(*quantity))
            .ok_or_else(overflow)?;
        subtotal = subtotal.checked_add(line).ok_or_else(overflow)?;
    }
    Ok(subtotal)
}

pub(super) fn sold_out(product: &products::Model, left: i32) -> AppError {
    AppError::bad_input("items", format!("only {left} of {} left", product.name))
}

pub(super) fn hold_reference(order_id: Uuid) -> String {
    format!("order:{order_id}")
}

pub(super) fn order_number(now: DateTime<Utc>, n: i64) -> String {
    format!("KW-{}-{n:06}", now.year())
}

/// Everything a new order row is made of.
pub(super) struct NewOrder<'a> {
    pub id: Uuid,
    pub number: String,
    pub buyer: Uuid,
    pub vendor_id: Uuid,
    pub subtotal: i64,
    pub bps: i64,
    pub hold_id: Uuid,
    pub address: addresses::Model,
    pub location: (f64, f64),
    pub input: &'a CheckedInput,
    pub now: DateTime<Utc>,
}

pub(super) fn new_order(o: NewOrder<'_>) -> AppResult<orders::Model> {
    let total = o.subtotal;
    let commission_bps = i32::try_from(o.bps).map_err(|_| {
        AppError::internal(anyhow::anyhow!(
            "commission rate {} bps is out of range",
            o.bps
        ))
    })?;
    Ok(orders::Model {
        id: o.id,
        number: o.number,
        buyer_id: o.buyer,
        vendor_id: o.vendor_id,
        status: OrderStatus::Placed,
        subtotal: o.subtotal,
        commission: escrow::commission(total, o.bps)?,
        commission_bps,
        total,
        hold_id: o.hold_id,
        address_id: Some(o.address.id),
        address_label: o.address.label,
        address_line1: o.address.line1,
        address_line2: o.address.line2,
        address_city: o.address.city,
        address_state: o.address.state,
        address_pincode: o.address.pincode,
        address_latitude: o.location.0,
        address_longitude: o.location.1,
        note: o.input.note.clone(),
        idempotency_key: o.input.key.clone(),
        request_hash: o.input.hash.clone(),
        created_at: o.now,
        updated_at: o.now,
        delivered_at: None,
        completed_at: None,
    })
}

pub(super) fn item_rows(
    order_id: Uuid,
    lines: &[(products::Model, i32)],
) -> Vec<order_items::ActiveModel> {
    lines
        .iter()
        .enumerate()
        .map(|(position, (product, quantity))| order_items::ActiveModel {
            id: Set(crate::db::new_id()),
            order_id: Set(order_id),
            product_id: Set(product.id),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            product_name: Set(product.name.clone()),
            unit: Set(product.unit),
            quantity: Set(*quantity),
            unit_price: Set(product.price),
            line_total: Set(product.price * i64::from(*quantity)),
        })
        .collect()
}

pub(super) fn history_row(
    order: &orders::Model,
    from: Option<OrderStatus>,
    actor: OrderActor,
    actor_id: Option<Uuid>,
    note: Option<String>,
) -> order_status_history::ActiveModel {
    order_status_history::ActiveModel {
        id: Set(crate::db::new_id()),
        order_id: Set(order.id),
        from_status: Set(from),
        status: Set(order.status),
        note: Set(note),
        actor: Set(actor),
        actor_id: Set(actor_id),
        created_at: Set(Utc::now()),
    }
}

/// The vendor's notification of a new order: (title, body).
pub(super) fn placed_notice(order: &orders::Model) -> (String, String) {
    (
        format!("New order {}", order.number),
        format!(
            "A buyer placed order {} for {}. Confirm or reject it.",
            order.number,
            crate::money::format_inr(order.total)
        ),
    )
}

pub(super) fn placed_email(order_id: Uuid) -> SendOrderEmail {
    SendOrderEmail {
        order_id,
        email: OrderEmail::Placed,
    }
}
