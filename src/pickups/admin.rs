//! What operators do with pickups, shared by the admin GraphQL fields and the console: search
//! every pickup, read one with everything around it (parties, slot, items, weighed lines, hold,
//! history, chat room), resolve a dispute, read and set rate cards. The rules stay in
//! [`super::service`]: a dispute is resolved and a rate is set by the same function the
//! mutations call, each writing its audit row in the transaction of the change; this module
//! only owns the transaction, the reads, and the event published after the commit.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    categories, chat_rooms, holds, pickup_items, pickup_lines, pickup_rates, pickup_slots,
    pickup_status_history,
    pickups::{self, PickupStatus},
    users, vendors,
};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _, TransactionTrait as _, sea_query::Query,
};
use uuid::Uuid;

use super::{
    events,
    service::{
        self, completion,
        rates::{self, SetRateInput},
        settlement::WeighingLine,
    },
};
use crate::{
    AppState, accounts::admin::contains_ci, auth::Viewer, error::AppError, error::AppResult,
    paging::Page,
};

/// What an admin searches pickups by; every field given narrows the list.
#[derive(Debug, Clone, Default)]
pub struct PickupSearch {
    /// Part of the pickup number or of the household's email.
    pub text: Option<String>,
    pub status: Option<PickupStatus>,
}

/// A pickup in a list, with who sells and who collects.
#[derive(Debug, Clone)]
pub struct PickupRow {
    pub pickup: pickups::Model,
    pub household: Option<users::Model>,
    pub collector: Option<vendors::Model>,
}

/// Admin: pickups matching `search`, newest first (`LIMIT page.limit + 1`), with the total.
pub async fn search_pickups(
    conn: &impl ConnectionTrait,
    search: &PickupSearch,
    page: &Page,
) -> AppResult<(Vec<PickupRow>, i64)> {
    let mut filter = Condition::all();
    if let Some(text) = search
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        filter = filter.add(
            Condition::any()
                .add(contains_ci(pickups::Column::Number, text))
                .add(
                    pickups::Column::HouseholdId.in_subquery(
                        Query::select()
                            .column(users::Column::Id)
                            .from(users::Entity)
                            .cond_where(contains_ci(users::Column::Email, text))
                            .to_owned(),
                    ),
                ),
        );
    }
    if let Some(status) = search.status {
        filter = filter.add(pickups::Column::Status.eq(status));
    }
    let (rows, total) = crate::paging::newest_first::<pickups::Entity>(
        conn,
        filter,
        pickups::Column::CreatedAt,
        pickups::Column::Id,
        page,
    )
    .await?;
    let households = users_by_id(conn, rows.iter().map(|p| p.household_id).collect()).await?;
    let collectors = vendors_by_id(conn, rows.iter().filter_map(|p| p.vendor_id).collect()).await?;
    let rows = rows
        .into_iter()
        .map(|pickup| PickupRow {
            household: households.get(&pickup.household_id).cloned(),
            collector: pickup.vendor_id.and_then(|v| collectors.get(&v).cloned()),
            pickup,
        })
        .collect();
    Ok((rows, total))
}

/// How many pickups wait for an operator (DISPUTED).
pub async fn count_disputed(conn: &impl ConnectionTrait) -> AppResult<u64> {
    Ok(pickups::Entity::find()
        .filter(pickups::Column::Status.eq(PickupStatus::Disputed))
        .count(conn)
        .await?)
}

/// One status change, with the user who made it (none for the system).
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub change: pickup_status_history::Model,
    pub by: Option<users::Model>,
}

/// A pickup with everything an operator looks at.
#[derive(Debug, Clone)]
pub struct PickupDetail {
    pub pickup: pickups::Model,
    pub household: Option<users::Model>,
    pub collector: Option<vendors::Model>,
    pub slot: Option<pickup_slots::Model>,
    /// What the household listed, with the rates locked at booking.
    pub items: Vec<pickup_items::Model>,
    /// What the scale said, priced.
    pub lines: Vec<pickup_lines::Model>,
    pub hold: Option<holds::Model>,
    /// Oldest first.
    pub history: Vec<HistoryEntry>,
    pub chat_room: Option<Uuid>,
    /// The names of the materials in `items` and `lines`.
    pub materials: HashMap<Uuid, String>,
}

/// Admin: one pickup and everything around it (NOT_FOUND when there is none).
pub async fn pickup_detail(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<PickupDetail> {
    let pickup = service::find(conn, id).await?;
    let household = users::Entity::find_by_id(pickup.household_id)
        .one(conn)
        .await?;
    let collector = match pickup.vendor_id {
        Some(v) => vendors::Entity::find_by_id(v).one(conn).await?,
        None => None,
    };
    let slot = match pickup.slot_id {
        Some(s) => pickup_slots::Entity::find_by_id(s).one(conn).await?,
        None => None,
    };
    let items = pickup_items::Entity::find()
        .filter(pickup_items::Column::PickupId.eq(id))
        .order_by_asc(pickup_items::Column::Position)
        .all(conn)
        .await?;
    let lines = pickup_lines::Entity::find()
        .filter(pickup_lines::Column::PickupId.eq(id))
        .order_by_asc(pickup_lines::Column::Position)
        .all(conn)
        .await?;
    let hold = match pickup.hold_id {
        Some(h) => holds::Entity::find_by_id(h).one(conn).await?,
        None => None,
    };
    let changes = pickup_status_history::Entity::find()
        .filter(pickup_status_history::Column::PickupId.eq(id))
        .order_by_asc(pickup_status_history::Column::CreatedAt)
        .order_by_asc(pickup_status_history::Column::Id)
        .all(conn)
        .await?;
    let actors = users_by_id(conn, changes.iter().filter_map(|c| c.actor_id).collect()).await?;
    let history = changes
        .into_iter()
        .map(|change| HistoryEntry {
            by: change.actor_id.and_then(|a| actors.get(&a).cloned()),
            change,
        })
        .collect();
    let chat_room = chat_rooms::Entity::find()
        .filter(chat_rooms::Column::PickupId.eq(id))
        .one(conn)
        .await?
        .map(|room| room.id);
    let listed: Vec<Uuid> = items
        .iter()
        .map(|i| i.category_id)
        .chain(lines.iter().map(|l| l.category_id))
        .collect();
    let materials = material_names(conn, listed).await?;
    Ok(PickupDetail {
        pickup,
        household,
        collector,
        slot,
        items,
        lines,
        hold,
        history,
        chat_room,
        materials,
    })
}

/// The scale's photo of a pickup: (storage key, bytes), if one was stored.
pub async fn scale_photo(app: &AppState, id: Uuid) -> AppResult<Option<(String, Vec<u8>)>> {
    let pickup = service::find(&app.db, id).await?;
    let Some(key) = pickup.weighing_photo_key else {
        return Ok(None);
    };
    let bytes = app.storage.get(&key).await.map_err(AppError::internal)?;
    Ok(bytes.map(|b| (key, b)))
}

/// Admin: resolves a DISPUTED pickup (see [`completion::resolve_dispute`]: settle at `lines`,
/// the recorded weights when `None`, or cancel and return the hold) in one transaction, then
/// tells `pickupUpdated` and wakes the worker for the emails.
pub async fn resolve_dispute(
    app: &AppState,
    admin: Viewer,
    pickup_id: Uuid,
    lines: Option<Vec<WeighingLine>>,
    cancel: bool,
) -> AppResult<pickups::Model> {
    let txn = app.db.begin().await?;
    let pickup = service::find(&txn, pickup_id).await?;
    let resolved =
        completion::resolve_dispute(&txn, &pickup, lines, cancel, admin.user_id, Utc::now())
            .await?;
    txn.commit().await?;
    events::status_changed(app, &resolved).await;
    app.wake_worker();
    Ok(resolved)
}

/// Admin: a new rate for a city and material (see [`rates::set_rate`]), in its own transaction.
pub async fn set_rate(
    app: &AppState,
    admin: Viewer,
    input: SetRateInput,
) -> AppResult<pickup_rates::Model> {
    let txn = app.db.begin().await?;
    let rate = rates::set_rate(&txn, admin.user_id, input, Utc::now()).await?;
    txn.commit().await?;
    Ok(rate)
}

/// One city's rates: those in force and those that start later.
#[derive(Debug, Clone)]
pub struct CityRates {
    pub city: String,
    /// In force at the moment asked about, by material name.
    pub current: Vec<pickup_rates::Model>,
    /// Set to start later, soonest first.
    pub scheduled: Vec<pickup_rates::Model>,
}

/// Every city's rate card at `at` (cities by name), and the names of their materials.
pub async fn rate_cards(
    conn: &impl ConnectionTrait,
    at: DateTime<Utc>,
) -> AppResult<(Vec<CityRates>, HashMap<Uuid, String>)> {
    let keys: Vec<String> = pickup_rates::Entity::find()
        .select_only()
        .column(pickup_rates::Column::CityKey)
        .distinct()
        .order_by_asc(pickup_rates::Column::CityKey)
        .into_tuple()
        .all(conn)
        .await?;
    let mut cards = Vec::with_capacity(keys.len());
    for key in keys {
        let current = rates::rate_card(conn, &key, at).await?;
        let scheduled = pickup_rates::Entity::find()
            .filter(pickup_rates::Column::CityKey.eq(&key))
            .filter(pickup_rates::Column::EffectiveFrom.gt(at))
            .order_by_asc(pickup_rates::Column::EffectiveFrom)
            .all(conn)
            .await?;
        let city = current
            .iter()
            .chain(&scheduled)
            .max_by_key(|r| r.created_at)
            .map_or_else(|| key.clone(), |r| r.city.clone());
        cards.push(CityRates {
            city,
            current,
            scheduled,
        });
    }
    let listed: Vec<Uuid> = cards
        .iter()
        .flat_map(|c| c.current.iter().chain(&c.scheduled))
        .map(|r| r.category_id)
        .collect();
    let materials = material_names(conn, listed).await?;
    for card in &mut cards {
        card.current.sort_by(|a, b| {
            materials
                .get(&a.category_id)
                .cmp(&materials.get(&b.category_id))
        });
    }
    Ok((cards, materials))
}

/// Every category, by name: the materials a rate may be set for.
pub async fn materials(conn: &impl ConnectionTrait) -> AppResult<Vec<categories::Model>> {
    Ok(categories::Entity::find()
        .order_by_asc(categories::Column::Name)
        .all(conn)
        .await?)
}

/// `ids` without repeats, sorted. (Callers collect before awaiting: an iterator of closures
/// over borrowed rows held across an `.await` makes the future not `Send`.)
fn distinct(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

async fn users_by_id(
    conn: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> AppResult<HashMap<Uuid, users::Model>> {
    let ids = distinct(ids);
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let found = users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(conn)
        .await?;
    Ok(found.into_iter().map(|u| (u.id, u)).collect())
}

async fn vendors_by_id(
    conn: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> AppResult<HashMap<Uuid, vendors::Model>> {
    let ids = distinct(ids);
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let found = vendors::Entity::find()
        .filter(vendors::Column::Id.is_in(ids))
        .all(conn)
        .await?;
    Ok(found.into_iter().map(|v| (v.id, v)).collect())
}

async fn material_names(
    conn: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> AppResult<HashMap<Uuid, String>> {
    let ids = distinct(ids);
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let found = categories::Entity::find()
        .filter(categories::Column::Id.is_in(ids))
        .all(conn)
        .await?;
    Ok(found.into_iter().map(|c| (c.id, c.name)).collect())
}
