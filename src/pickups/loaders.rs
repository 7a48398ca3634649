//! Batched pickup lookups: pickups by id, items, weighed lines, history, slots, reviews, rates.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{
    pickup_items, pickup_lines, pickup_rates, pickup_reviews, pickup_slots, pickup_status_history,
    pickups,
};
use sea_orm::{ColumnTrait as _, EntityTrait, QueryFilter, QueryOrder as _};
use uuid::Uuid;

use crate::{
    error::AppError,
    loader::{AppLoader, ById, grouped},
};

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

impl ById for PickupById {
    type Entity = pickups::Entity;
    const ID: pickups::Column = pickups::Column::Id;
    fn id(self) -> Uuid {
        self.0
    }
    fn of(row: &pickups::Model) -> Self {
        Self(row.id)
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

impl ById for SlotById {
    type Entity = pickup_slots::Entity;
    const ID: pickup_slots::Column = pickup_slots::Column::Id;
    fn id(self) -> Uuid {
        self.0
    }
    fn of(row: &pickup_slots::Model) -> Self {
        Self(row.id)
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

impl ById for RateById {
    type Entity = pickup_rates::Entity;
    const ID: pickup_rates::Column = pickup_rates::Column::Id;
    fn id(self) -> Uuid {
        self.0
    }
    fn of(row: &pickup_rates::Model) -> Self {
        Self(row.id)
    }
}
