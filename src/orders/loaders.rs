//! Batched order lookups: orders, their lines and history, and users (buyers).

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{order_items, order_status_history, orders, users};
use sea_orm::{ColumnTrait as _, EntityTrait, QueryFilter, QueryOrder as _};
use uuid::Uuid;

use crate::{error::AppError, graphql::loader::AppLoader};

/// An order by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderById(pub Uuid);

/// An order's lines, in the order they were placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderItems(pub Uuid);

/// An order's status history, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderHistory(pub Uuid);

/// A user by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserById(pub Uuid);

impl Loader<OrderById> for AppLoader {
    type Value = orders::Model;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[OrderById],
    ) -> Result<HashMap<OrderById, Self::Value>, Self::Error> {
        let rows = orders::Entity::find()
            .filter(orders::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|o| (OrderById(o.id), o)).collect())
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
        let mut grouped: HashMap<OrderItems, Vec<order_items::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            grouped
                .entry(OrderItems(row.order_id))
                .or_default()
                .push(row);
        }
        Ok(grouped)
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
        let mut grouped: HashMap<OrderHistory, Vec<order_status_history::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            grouped
                .entry(OrderHistory(row.order_id))
                .or_default()
                .push(row);
        }
        Ok(grouped)
    }
}

impl Loader<UserById> for AppLoader {
    type Value = users::Model;
    type Error = AppError;

    async fn load(&self, keys: &[UserById]) -> Result<HashMap<UserById, Self::Value>, Self::Error> {
        let rows = users::Entity::find()
            .filter(users::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|u| (UserById(u.id), u)).collect())
    }
}
