//! Batched order lookups: orders, their lines and history.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{order_items, order_status_history, orders};
use sea_orm::{ColumnTrait as _, EntityTrait, QueryFilter, QueryOrder as _};
use uuid::Uuid;

use crate::{
    error::AppError,
    loader::{AppLoader, ById, grouped},
};

/// An order by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderById(pub Uuid);

/// An order's lines, in the order they were placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderItems(pub Uuid);

/// An order's status history, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderHistory(pub Uuid);

/// Users (buyers) load through the accounts' key.
pub use crate::accounts::loaders::UserById;

impl ById for OrderById {
    type Entity = orders::Entity;
    const ID: orders::Column = orders::Column::Id;
    fn id(self) -> Uuid {
        self.0
    }
    fn of(row: &orders::Model) -> Self {
        Self(row.id)
    }
}

impl Loader<OrderItems> for AppLoader {
    type Value = Vec<order_items::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[OrderItems],
    ) -> Result<HashMap<OrderItems, Self::Value>, Self::Error> {
        let rows = order_items::Entity::find()
            .filter(order_items::Column::OrderId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(order_items::Column::Position)
            .all(&self.db)
            .await?;
        Ok(grouped(keys, rows, |row| OrderItems(row.order_id)))
    }
}

impl Loader<OrderHistory> for AppLoader {
    type Value = Vec<order_status_history::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[OrderHistory],
    ) -> Result<HashMap<OrderHistory, Self::Value>, Self::Error> {
        let rows = order_status_history::Entity::find()
            .filter(order_status_history::Column::OrderId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(order_status_history::Column::CreatedAt)
            .all(&self.db)
            .await?;
        Ok(grouped(keys, rows, |row| OrderHistory(row.order_id)))
    }
}
