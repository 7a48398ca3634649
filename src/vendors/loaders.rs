//! Batched vendor lookups.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::vendors;
use sea_orm::{ColumnTrait as _, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{error::AppError, graphql::loader::AppLoader};

/// A vendor by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VendorById(pub Uuid);

impl Loader<VendorById> for AppLoader {
    type Value = vendors::Model;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[VendorById],
    ) -> Result<HashMap<VendorById, Self::Value>, Self::Error> {
        let rows = vendors::Entity::find()
            .filter(vendors::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|v| (VendorById(v.id), v)).collect())
    }
}
