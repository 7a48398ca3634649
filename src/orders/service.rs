//! Order rules: placing an order (prices frozen, stock decremented, money held — one
//! transaction), moving it through the transition table with its money and stock effects,
//! releasing the held amount, and listing what a caller may see.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike as _, Duration, SubsecRound as _, Utc};
use entity::{
    addresses,
    holds::HoldStatus,
    ledger_accounts::AccountKind,
    order_items,
    order_status_history::{self, OrderActor},
    orders::{self, OrderStatus},
    products, vendors,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder as _, QuerySelect as _, Statement,
    TransactionTrait as _,
    sea_query::{Expr, ExprTrait as _},
};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::jobs::{OrderEmail, ReleaseHeldAmount, SendOrderEmail};
use super::state;
use crate::{
    accounts::service as accounts,
    auth::Viewer,
    catalog::{products as catalog, reviews},
    error::{AppError, AppResult},
    geo,
    jobs::queue,
    notifications::service as notifications,
    paging::{Cursor, Page},
    settings::service::{self as settings, Setting},
    vendors::service as vendors_service,
    wallet::{escrow, ledger},
};

/// The most lines one order may have.
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

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<orders::Model> {
    orders::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("order"))
}

/// What `viewer` is to `order`: its buyer, its vendor, an admin — or nobody (`None`: the order
/// does not exist for them).
pub async fn actor_for(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    order: &orders::Model,
) -> AppResult<Option<OrderActor>> {
    if order.buyer_id == viewer.user_id {
        return Ok(Some(OrderActor::Buyer));
    }
    let vendor = vendors_service::find(conn, order.vendor_id).await?;
    if vendor.user_id == viewer.user_id {
        return Ok(Some(OrderActor::Vendor));
    }
    Ok(viewer.is_admin().then_some(OrderActor::Admin))
}

/// `order_id` if `viewer` may see it, or NOT_FOUND (also for orders of others).
pub async fn visible(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    order_id: Uuid,
) -> AppResult<(orders::Model, OrderActor)> {
    let order = find(conn, order_id).await?;
    match actor_for(conn, viewer, &order).await? {
        Some(actor) => Ok((order, actor)),
        None => Err(AppError::not_found("order")),
    }
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

async fn by_key(
    conn: &impl ConnectionTrait,
    buyer: Uuid,
    key: &str,
    hash: &str,
) -> AppResult<Option<orders::Model>> {
    let existing = orders::Entity::find()
        .filter(orders::Column::BuyerId.eq(buyer))
        .filter(orders::Column::IdempotencyKey.eq(key))
        .one(conn)
        .await?;
    match existing {
        Some(order) if order.request_hash == hash => Ok(Some(order)),
        Some(_) => Err(key_reused()),
        None => Ok(None),
    }
}

/// Places an order in one transaction: an order exists if and only if its stock was taken and
/// its money held. Replaying `idempotencyKey` with the same input returns the first order.
pub async fn place_order(
    db: &DatabaseConnection,
    buyer: Uuid,
    input: PlaceOrderInput,
) -> AppResult<Placed> {
    let address_id = input.address_id;
    let checked = check_input(input)?;
    place_checked(db, buyer, address_id, &checked).await
}

/// [`place_order`] after [`check_input`]: the one-order-per-transaction path.
pub(super) async fn place_checked(
    db: &DatabaseConnection,
    buyer: Uuid,
    address_id: Uuid,
    checked: &CheckedInput,
) -> AppResult<Placed> {
    if let Some(order) = by_key(db, buyer, &checked.key, &checked.hash).await? {
        return Ok(Placed {
            order,
            created: false,
        });
    }
    let txn = db.begin().await?;
    match place_in(&txn, buyer, address_id, checked).await {
        Ok(order) => {
            txn.commit().await?;
            Ok(Placed {
                order,
                created: true,
            })
        }
        Err(err) => {
            txn.rollback().await?;
            // A parallel request with the same key won the unique index: answer with its order.
            if matches!(err, AppError::Conflict(_))
                && let Some(order) = by_key(db, buyer, &checked.key, &checked.hash).await?
            {
                return Ok(Placed {
                    order,
                    created: false,
                });
            }
            Err(err)
        }
    }
}

async fn place_in(
    conn: &impl ConnectionTrait,
    buyer: Uuid,
    address_id: Uuid,
    input: &CheckedInput,
) -> AppResult<orders::Model> {
    let address = accounts::own_address(conn, buyer, address_id)
        .await
        .map_err(|_| no_such_address())?;
    let location = delivery_location(&address)?;

    let ids: Vec<Uuid> = input.lines.iter().map(|l| l.product_id).collect();
    let found: HashMap<Uuid, products::Model> = products::Entity::find()
        .filter(products::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let (lines, vendor_id) = order_lines(&input.lines, &found)?;
    let vendor = vendors_service::find(conn, vendor_id).await?;
    let subtotal = check_order(buyer, &vendor, &lines, location)?;
    let bps = vendors_service::commission_bps(conn, &vendor).await?;
    escrow::commission(subtotal, bps)?;

    // Stock first, in product-id order, then the wallet: every transaction takes its row locks
    // in the same order, so concurrent orders queue instead of deadlocking.
    let mut by_id: Vec<&(products::Model, i32)> = lines.iter().collect();
    by_id.sort_by_key(|(p, _)| p.id);
    let now = Utc::now().trunc_subsecs(6);
    for (product, quantity) in by_id {
        take_stock(conn, product, *quantity, now).await?;
    }
    let order_id = crate::db::new_id();
    let hold = escrow::hold(conn, buyer, subtotal, &hold_reference(order_id)).await?;
    let number = order_number(now, next_order_number(conn).await?);

    let order = new_order(NewOrder {
        id: order_id,
        number,
        buyer,
        vendor_id,
        subtotal,
        bps,
        hold_id: hold.id,
        address,
        location,
        input,
        now,
    })?;
    orders::Entity::insert(orders::ActiveModel::from(order.clone()))
        .exec_without_returning(conn)
        .await?;
    order_items::Entity::insert_many(item_rows(order_id, &lines))
        .exec_without_returning(conn)
        .await?;
    record_history(conn, &order, None, OrderActor::Buyer, Some(buyer), None).await?;
    let (title, body) = placed_notice(&order);
    notifications::notify(
        conn,
        vendor.user_id,
        PLACED_KIND,
        &title,
        &body,
        Some(order.id),
    )
    .await?;
    queue::enqueue(conn, &placed_email(order_id)).await?;
    Ok(order)
}

// The rules of a placement, shared by the single path above and the batched one
// (`super::placement`), so both accept and refuse exactly the same orders with the same errors.

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

/// Takes `quantity` units of `product`, only if that many are left.
async fn take_stock(
    conn: &impl ConnectionTrait,
    product: &products::Model,
    quantity: i32,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let taken = products::Entity::update_many()
        .col_expr(
            products::Column::Stock,
            Expr::col(products::Column::Stock).sub(quantity),
        )
        .col_expr(products::Column::UpdatedAt, Expr::value(now))
        .filter(products::Column::Id.eq(product.id))
        .filter(products::Column::Stock.gte(quantity))
        .exec(conn)
        .await?;
    if taken.rows_affected == 0 {
        let left = catalog::find(conn, product.id)
            .await?
            .map_or(0, |p| p.stock);
        return Err(sold_out(product, left));
    }
    Ok(())
}

#[derive(FromQueryResult)]
struct Next {
    value: i64,
}

/// The next order number: a sequence on PostgreSQL (no lock held until commit); on SQLite, a
/// counter row bumped in the placing transaction (SQLite has one writer anyway).
async fn next_order_number(conn: &impl ConnectionTrait) -> AppResult<i64> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT nextval('order_number_seq') AS value",
        _ => "UPDATE counters SET value = value + 1 WHERE name = 'order_number' RETURNING value",
    };
    Next::find_by_statement(Statement::from_string(backend, sql))
        .one(conn)
        .await?
        .map(|n| n.value)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("the order-number counter is missing")))
}

async fn record_history(
    conn: &impl ConnectionTrait,
    order: &orders::Model,
    from: Option<OrderStatus>,
    actor: OrderActor,
    actor_id: Option<Uuid>,
    note: Option<String>,
) -> AppResult<()> {
    order_status_history::Entity::insert(history_row(order, from, actor, actor_id, note))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Moves an order to `to` as `actor`, if the transition table allows it, with its effects:
/// CANCELLED/REFUNDED void the hold and restore stock; DELIVERED records the purchases (which
/// allow reviews); COMPLETED queues the release of the held amount. The update is conditional
/// on the status read, so of two racing transitions exactly one wins; the other is
/// INVALID_TRANSITION. Notifies the other side and queues the important emails.
pub async fn transition(
    conn: &impl ConnectionTrait,
    order_id: Uuid,
    to: OrderStatus,
    actor: OrderActor,
    actor_id: Option<Uuid>,
    note: Option<String>,
) -> AppResult<orders::Model> {
    let order = find(conn, order_id).await?;
    let from = order.status;
    if !state::allowed(from, to, actor) {
        return Err(AppError::InvalidTransition(format!(
            "{} cannot move an order from {} to {}",
            actor_name(actor),
            state::name(from),
            state::name(to)
        )));
    }
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(AppError::bad_input(
            "note",
            "must be at most 1,000 characters",
        ));
    }
    let now = Utc::now();
    let mut update = orders::Entity::update_many()
        .col_expr(orders::Column::Status, Expr::value(to))
        .col_expr(orders::Column::UpdatedAt, Expr::value(now));
    if to == OrderStatus::Delivered {
        update = update.col_expr(orders::Column::DeliveredAt, Expr::value(now));
    }
    if to == OrderStatus::Completed {
        update = update.col_expr(orders::Column::CompletedAt, Expr::value(now));
    }
    let moved = update
        .filter(orders::Column::Id.eq(order.id))
        .filter(orders::Column::Status.eq(from))
        .exec(conn)
        .await?;
    if moved.rows_affected == 0 {
        let current = find(conn, order.id).await?;
        return Err(AppError::InvalidTransition(format!(
            "the order changed meanwhile: it is now {}",
            state::name(current.status)
        )));
    }
    let order = find(conn, order.id).await?;
    record_history(conn, &order, Some(from), actor, actor_id, note.clone()).await?;

    let items = order_items::Entity::find()
        .filter(order_items::Column::OrderId.eq(order.id))
        .order_by_asc(order_items::Column::ProductId)
        .all(conn)
        .await?;
    if state::returns_money(to) {
        // Products before the wallet, as in placement (lock order).
        for item in &items {
            products::Entity::update_many()
                .col_expr(
                    products::Column::Stock,
                    Expr::col(products::Column::Stock).add(item.quantity),
                )
                .filter(products::Column::Id.eq(item.product_id))
                .exec(conn)
                .await?;
        }
        escrow::void(conn, order.hold_id).await?;
    }
    if to == OrderStatus::Delivered {
        for item in &items {
            reviews::record_purchase(conn, order.buyer_id, item.product_id).await?;
        }
    }
    if to == OrderStatus::Completed {
        queue::enqueue(conn, &ReleaseHeldAmount { order_id: order.id }).await?;
    }
    notify_transition(conn, &order, actor, note.as_deref()).await?;
    let email = match to {
        OrderStatus::Confirmed => Some(OrderEmail::Confirmed),
        OrderStatus::Delivered => Some(OrderEmail::Delivered),
        OrderStatus::Refunded => Some(OrderEmail::Refunded),
        _ => None,
    };
    if let Some(email) = email {
        queue::enqueue(
            conn,
            &SendOrderEmail {
                order_id: order.id,
                email,
            },
        )
        .await?;
    }
    Ok(order)
}

fn actor_name(actor: OrderActor) -> &'static str {
    match actor {
        OrderActor::Buyer => "the buyer",
        OrderActor::Vendor => "the vendor",
        OrderActor::Admin => "an admin",
        OrderActor::System => "the system",
    }
}

/// Tells the side(s) that did not act.
async fn notify_transition(
    conn: &impl ConnectionTrait,
    order: &orders::Model,
    actor: OrderActor,
    note: Option<&str>,
) -> AppResult<()> {
    let vendor = vendors_service::find(conn, order.vendor_id).await?;
    let status = state::name(order.status);
    let title = format!("Order {} is {}", order.number, status.to_lowercase());
    let mut body = format!("Order {} moved to {status}.", order.number);
    if let Some(note) = note {
        body.push_str(&format!(" Note: {note}"));
    }
    let recipients: &[Uuid] = match actor {
        OrderActor::Buyer => &[vendor.user_id],
        OrderActor::Vendor => &[order.buyer_id],
        OrderActor::Admin | OrderActor::System => &[order.buyer_id, vendor.user_id],
    };
    for user in recipients {
        notifications::notify(
            conn,
            *user,
            &format!("ORDER_{status}"),
            &title,
            &body,
            Some(order.id),
        )
        .await?;
    }
    Ok(())
}

/// Releases a COMPLETED order's hold: the total less commission to the vendor's earnings
/// account (owned by the vendor id), the commission to platform revenue. Idempotent: a hold
/// already released is left alone.
pub async fn release_held_amount(conn: &impl ConnectionTrait, order_id: Uuid) -> AppResult<()> {
    let order = find(conn, order_id).await?;
    if order.status != OrderStatus::Completed {
        return Err(AppError::InvalidTransition(format!(
            "order {} is {}, not COMPLETED",
            order.number,
            state::name(order.status)
        )));
    }
    let hold = escrow::find(conn, order.hold_id).await?;
    match hold.status {
        HoldStatus::Released => Ok(()),
        HoldStatus::Voided => Err(AppError::internal(anyhow::anyhow!(
            "the hold of completed order {} was voided",
            order.number
        ))),
        HoldStatus::Held => {
            let earnings =
                ledger::account(conn, AccountKind::VendorEarnings, order.vendor_id).await?;
            escrow::release(conn, hold.id, &earnings, order.total, order.commission).await?;
            Ok(())
        }
    }
}

/// What one auto-release sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AutoReleased {
    /// Orders it completed (their releases are queued).
    pub completed: u64,
    /// Orders it could not complete; each is logged, and left DELIVERED for the next sweep.
    pub failed: u64,
}

/// How many due orders one query of the sweep reads.
const AUTO_RELEASE_PAGE: u64 = 500;

/// Completes every order DELIVERED more than `AUTO_RELEASE_HOURS` before `now` (as the system),
/// each in its own transaction. Orders the buyer completed meanwhile are skipped. An order that
/// fails is logged and counted, and the sweep goes on: one bad order must not hold back every
/// release after it. The due orders are read in pages by (delivered_at, id), so even a page full
/// of failing orders does not hide the ones behind it. Called by the `auto_release_delivered`
/// task (and a scheduler).
pub async fn auto_release_delivered(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<AutoReleased> {
    let hours = settings::get(db, Setting::AutoReleaseHours).await?;
    let cutoff = now - Duration::hours(hours);
    let mut swept = AutoReleased::default();
    let mut after: Option<(DateTime<Utc>, Uuid)> = None;
    loop {
        let mut due = orders::Entity::find()
            .filter(orders::Column::Status.eq(OrderStatus::Delivered))
            .filter(orders::Column::DeliveredAt.lte(cutoff));
        if let Some((at, id)) = after {
            due = due.filter(
                Condition::any()
                    .add(orders::Column::DeliveredAt.gt(at))
                    .add(
                        Condition::all()
                            .add(orders::Column::DeliveredAt.eq(at))
                            .add(orders::Column::Id.gt(id)),
                    ),
            );
        }
        let due = due
            .order_by_asc(orders::Column::DeliveredAt)
            .order_by_asc(orders::Column::Id)
            .limit(AUTO_RELEASE_PAGE)
            .all(db)
            .await?;
        let Some(last) = due.last() else {
            break;
        };
        after = last.delivered_at.map(|at| (at, last.id));
        for order in &due {
            match auto_release_one(db, order.id, hours).await {
                Ok(true) => swept.completed += 1,
                Ok(false) => {}
                Err(err) => {
                    swept.failed += 1;
                    tracing::error!(
                        order_id = %order.id,
                        order_number = %order.number,
                        error = ?err,
                        "could not complete a delivered order automatically"
                    );
                }
            }
        }
        if after.is_none() || (due.len() as u64) < AUTO_RELEASE_PAGE {
            break;
        }
    }
    Ok(swept)
}

/// Completes one delivered order in its own transaction; false when it moved meanwhile.
async fn auto_release_one(db: &DatabaseConnection, order_id: Uuid, hours: i64) -> AppResult<bool> {
    let txn = db.begin().await?;
    match transition(
        &txn,
        order_id,
        OrderStatus::Completed,
        OrderActor::System,
        None,
        Some(format!(
            "completed automatically {hours} hours after delivery"
        )),
    )
    .await
    {
        Ok(_) => {
            txn.commit().await?;
            Ok(true)
        }
        Err(AppError::InvalidTransition(_)) => {
            txn.rollback().await?;
            Ok(false)
        }
        Err(other) => Err(other),
    }
}

/// Whose orders a listing covers.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// Admins: every order.
    All,
    /// Orders the user placed.
    Buyer(Uuid),
    /// Orders placed with the vendor.
    Vendor(Uuid),
    /// Both of the above for one user (a vendor who also buys).
    Mine { buyer: Uuid, vendor: Option<Uuid> },
}

/// A page of orders in `scope`, newest first, and how many there are in all.
pub async fn page(
    conn: &impl ConnectionTrait,
    scope: Scope,
    status: Option<OrderStatus>,
    page: &Page<Cursor>,
) -> AppResult<(Vec<orders::Model>, i64)> {
    let mut filter = match scope {
        Scope::All => Condition::all(),
        Scope::Buyer(user) => Condition::all().add(orders::Column::BuyerId.eq(user)),
        Scope::Vendor(vendor) => Condition::all().add(orders::Column::VendorId.eq(vendor)),
        Scope::Mine { buyer, vendor } => {
            let mut either = Condition::any().add(orders::Column::BuyerId.eq(buyer));
            if let Some(vendor) = vendor {
                either = either.add(orders::Column::VendorId.eq(vendor));
            }
            Condition::all().add(either)
        }
    };
    if let Some(status) = status {
        filter = filter.add(orders::Column::Status.eq(status));
    }
    crate::paging::newest_first::<orders::Entity>(
        conn,
        filter,
        orders::Column::CreatedAt,
        orders::Column::Id,
        page,
    )
    .await
}
