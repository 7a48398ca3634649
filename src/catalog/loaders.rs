//! Batched category lookups.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::categories;
use sea_orm::{ColumnTrait as _, EntityTrait, QueryFilter, QueryOrder as _};
use uuid::Uuid;

use crate::{error::AppError, graphql::loader::AppLoader};

/// A category by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CategoryById(pub Uuid);

/// The direct subcategories of a category, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CategoryChildren(pub Uuid);

impl Loader<CategoryById> for AppLoader {
    type Value = categories::Model;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[CategoryById],
    ) -> Result<HashMap<CategoryById, Self::Value>, Self::Error> {
        let rows = categories::Entity::find()
            .filter(categories::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|c| (CategoryById(c.id), c)).collect())
    }
}

impl Loader<CategoryChildren> for AppLoader {
    type Value = Vec<categories::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[CategoryChildren],
    ) -> Result<HashMap<CategoryChildren, Self::Value>, Self::Error> {
        let rows = categories::Entity::find()
            .filter(categories::Column::ParentId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(categories::Column::SortOrder)
            .order_by_asc(categories::Column::Name)
            .all(&self.db)
            .await?;
        let mut grouped: HashMap<CategoryChildren, Vec<categories::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            if let Some(parent) = row.parent_id {
                grouped
                    .entry(CategoryChildren(parent))
                    .or_default()
                    .push(row);
            }
        }
        Ok(grouped)
    }
}
