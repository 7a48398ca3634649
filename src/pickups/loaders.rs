//! Batched pickup lookups: pickups by id, items, weighed lines, history, slots, reviews, rates.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{
    pickup_items, pickup_lines, pickup_rates, pickup_reviews, pickup_slots, pickup_status_history,
    pickups,
};
use sea_orm::{ColumnTrait as _, EntityTrait, QueryFilter, QueryOrder as _};
use uuid::Uuid;

use crate::{error::AppError, graphql::loader::AppLoader};

/// A pickup by id (for `ChatRoom.pickup`; the caller already may see it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PickupById(pub Uuid);

/// A pickup's estimated items, in the order booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PickupItems(pub Uuid);

/// A pickup's weighed lines, in the order weighed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PickupLines(pub Uuid);

/// A pickup's status history, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PickupHistory(pub Uuid);

/// A slot by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlotById(pub Uuid);

/// The review of a pickup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReviewOfPickup(pub Uuid);

/// A rate row by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateById(pub Uuid);

fn grouped<K: std::hash::Hash + Eq + Copy, V>(
    keys: &[K],
    rows: Vec<V>,
    key_of: impl Fn(&V) -> K,
) -> HashMap<K, Vec<V>> {
    let mut out: HashMap<K, Vec<V>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        out.entry(key_of(&row)).or_default().push(row);
    }
    out
}

impl Loader<PickupById> for AppLoader {
    type Value = pickups::Model;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[PickupById],
    ) -> Result<HashMap<PickupById, Self::Value>, Self::Error> {
        let rows = pickups::Entity::find()
            .filter(pickups::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|p| (PickupById(p.id), p)).collect())
    }
}

impl Loader<PickupItems> for AppLoader {
    type Value = Vec<pickup_items::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[PickupItems],
    ) -> Result<HashMap<PickupItems, Self::Value>, Self::Error> {
        let rows = pickup_items::Entity::find()
            .filter(pickup_items::Column::PickupId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(pickup_items::Column::Position)
            .all(&self.db)
            .await?;
        Ok(grouped(keys, rows, |r| PickupItems(r.pickup_id)))
    }
}

impl Loader<PickupLines> for AppLoader {
    type Value = Vec<pickup_lines::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[PickupLines],
    ) -> Result<HashMap<PickupLines, Self::Value>, Self::Error> {
        let rows = pickup_lines::Entity::find()
            .filter(pickup_lines::Column::PickupId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(pickup_lines::Column::Position)
            .all(&self.db)
            .await?;
        Ok(grouped(keys, rows, |r| PickupLines(r.pickup_id)))
    }
}

impl Loader<PickupHistory> for AppLoader {
    type Value = Vec<pickup_status_history::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[PickupHistory],
    ) -> Result<HashMap<PickupHistory, Self::Value>, Self::Error> {
        let rows = pickup_status_history::Entity::find()
            .filter(pickup_status_history::Column::PickupId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(pickup_status_history::Column::CreatedAt)
            .order_by_asc(pickup_status_history::Column::Id)
            .all(&self.db)
            .await?;
        Ok(grouped(keys, rows, |r| PickupHistory(r.pickup_id)))
    }
}

impl Loader<SlotById> for AppLoader {
    type Value = pickup_slots::Model;
    type Error = AppError;

    async fn load(&self, keys: &[SlotById]) -> Result<HashMap<SlotById, Self::Value>, Self::Error> {
        let rows = pickup_slots::Entity::find()
            .filter(pickup_slots::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|s| (SlotById(s.id), s)).collect())
    }
}

impl Loader<ReviewOfPickup> for AppLoader {
    type Value = pickup_reviews::Model;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ReviewOfPickup],
    ) -> Result<HashMap<ReviewOfPickup, Self::Value>, Self::Error> {
        let rows = pickup_reviews::Entity::find()
            .filter(pickup_reviews::Column::PickupId.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (ReviewOfPickup(r.pickup_id), r))
            .collect())
    }
}

impl Loader<RateById> for AppLoader {
    type Value = pickup_rates::Model;
    type Error = AppError;

    async fn load(&self, keys: &[RateById]) -> Result<HashMap<RateById, Self::Value>, Self::Error> {
        let rows = pickup_rates::Entity::find()
            .filter(pickup_rates::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|r| (RateById(r.id), r)).collect())
    }
}
