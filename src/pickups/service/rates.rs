//! Rate cards: per city and material, paise per kg, from a moment on. Rows are never edited and
//! never back-dated (an effective time in the past is refused), so the rate in force at any past
//! instant never changes, and a booking's locked rates stay what they were.

use std::collections::HashMap;

use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use entity::pickup_rates;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _,
    QueryOrder as _,
};
use uuid::Uuid;

use crate::{
    catalog::categories,
    error::{AppError, AppResult},
};

/// The largest price per kg accepted: ₹1,00,000/kg.
pub const MAX_PRICE_PER_KG: i64 = 10_000_000;

/// How far in the past an effective time may lie (clock skew between admin and server).
const SKEW: Duration = Duration::minutes(5);

#[derive(Debug, Clone)]
pub struct SetRateInput {
    pub city: String,
    pub category_id: Uuid,
    pub price_per_kg: i64,
    pub effective_from: Option<DateTime<Utc>>,
}

/// The lookup form of a city name.
pub fn city_key(city: &str) -> String {
    city.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Admin: a new rate for (city, material) from `effective_from` (default now).
pub async fn set_rate(
    conn: &impl ConnectionTrait,
    admin_id: Uuid,
    input: SetRateInput,
    now: DateTime<Utc>,
) -> AppResult<pickup_rates::Model> {
    let city = input.city.split_whitespace().collect::<Vec<_>>().join(" ");
    if city.is_empty() || city.chars().count() > 100 {
        return Err(AppError::bad_input("city", "must be 1 to 100 characters"));
    }
    if !(1..=MAX_PRICE_PER_KG).contains(&input.price_per_kg) {
        return Err(AppError::bad_input(
            "pricePerKg",
            format!("must be 1 to {MAX_PRICE_PER_KG} paise"),
        ));
    }
    let now = now.trunc_subsecs(6);
    let effective_from = input.effective_from.map_or(now, |at| at.trunc_subsecs(6));
    if effective_from < now - SKEW {
        return Err(AppError::bad_input(
            "effectiveFrom",
            "a rate cannot start in the past (bookings made then keep their rates)",
        ));
    }
    categories::find(conn, input.category_id)
        .await
        .map_err(|_| AppError::bad_input("categoryId", "no such category"))?;
    let row = pickup_rates::Model {
        id: crate::db::new_id(),
        city_key: city_key(&city),
        city,
        category_id: input.category_id,
        price_per_kg: input.price_per_kg,
        effective_from,
        created_by: Some(admin_id),
        created_at: now,
    };
    pickup_rates::Entity::insert(pickup_rates::ActiveModel {
        id: Set(row.id),
        city: Set(row.city.clone()),
        city_key: Set(row.city_key.clone()),
        category_id: Set(row.category_id),
        price_per_kg: Set(row.price_per_kg),
        effective_from: Set(row.effective_from),
        created_by: Set(row.created_by),
        created_at: Set(row.created_at),
    })
    .exec_without_returning(conn)
    .await?;
    super::common::record_admin_action(
        conn,
        admin_id,
        "pickup.set_rate",
        "pickup_rate",
        row.id,
        &format!(
            "{} / {}: {} paise per kg from {}",
            row.city, row.category_id, row.price_per_kg, row.effective_from
        ),
    )
    .await?;
    Ok(row)
}

/// The rate of (city, material) in force at `at`, if any.
pub async fn rate_at(
    conn: &impl ConnectionTrait,
    city: &str,
    category_id: Uuid,
    at: DateTime<Utc>,
) -> AppResult<Option<pickup_rates::Model>> {
    Ok(pickup_rates::Entity::find()
        .filter(pickup_rates::Column::CityKey.eq(city_key(city)))
        .filter(pickup_rates::Column::CategoryId.eq(category_id))
        .filter(pickup_rates::Column::EffectiveFrom.lte(at))
        .order_by_desc(pickup_rates::Column::EffectiveFrom)
        .order_by_desc(pickup_rates::Column::CreatedAt)
        .one(conn)
        .await?)
}

/// The rates of `categories` in `city` in force at `at` (materials without one are left out).
pub async fn rates_at(
    conn: &impl ConnectionTrait,
    city: &str,
    categories: &[Uuid],
    at: DateTime<Utc>,
) -> AppResult<HashMap<Uuid, pickup_rates::Model>> {
    let mut query = pickup_rates::Entity::find()
        .filter(pickup_rates::Column::CityKey.eq(city_key(city)))
        .filter(pickup_rates::Column::EffectiveFrom.lte(at));
    if !categories.is_empty() {
        query = query.filter(pickup_rates::Column::CategoryId.is_in(categories.to_vec()));
    }
    let rows = query
        .order_by_desc(pickup_rates::Column::EffectiveFrom)
        .order_by_desc(pickup_rates::Column::CreatedAt)
        .all(conn)
        .await?;
    let mut current = HashMap::new();
    for row in rows {
        current.entry(row.category_id).or_insert(row);
    }
    Ok(current)
}

/// The city's card: every material's rate in force at `at`, by material name order of id.
pub async fn rate_card(
    conn: &impl ConnectionTrait,
    city: &str,
    at: DateTime<Utc>,
) -> AppResult<Vec<pickup_rates::Model>> {
    let mut card: Vec<_> = rates_at(conn, city, &[], at).await?.into_values().collect();
    card.sort_by_key(|r| r.category_id);
    Ok(card)
}
