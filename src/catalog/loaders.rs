//! Batched catalog lookups: categories, products, their images, wishlist membership.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{categories, product_images, products, wishlist_items};
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

/// A product by id (whatever its visibility: the parent field decided).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProductById(pub Uuid);

impl Loader<ProductById> for AppLoader {
    type Value = products::Model;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ProductById],
    ) -> Result<HashMap<ProductById, Self::Value>, Self::Error> {
        let rows = products::Entity::find()
            .filter(products::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|p| (ProductById(p.id), p)).collect())
    }
}

/// A product's images, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProductImages(pub Uuid);

impl Loader<ProductImages> for AppLoader {
    type Value = Vec<product_images::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ProductImages],
    ) -> Result<HashMap<ProductImages, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        Ok(super::images::of_products(&self.db, &ids)
            .await?
            .into_iter()
            .map(|(id, images)| (ProductImages(id), images))
            .collect())
    }
}

/// Whether `user` has `product` in their wishlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InWishlist {
    pub user: Uuid,
    pub product: Uuid,
}

impl Loader<InWishlist> for AppLoader {
    type Value = bool;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[InWishlist],
    ) -> Result<HashMap<InWishlist, Self::Value>, Self::Error> {
        // A request has one signed-in user, so this is one query in practice.
        let mut by_user: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for key in keys {
            by_user.entry(key.user).or_default().push(key.product);
        }
        let mut found: HashMap<InWishlist, bool> = keys.iter().map(|k| (*k, false)).collect();
        for (user, products) in by_user {
            let rows = wishlist_items::Entity::find()
                .filter(wishlist_items::Column::UserId.eq(user))
                .filter(wishlist_items::Column::ProductId.is_in(products))
                .all(&self.db)
                .await?;
            for row in rows {
                found.insert(
                    InWishlist {
                        user,
                        product: row.product_id,
                    },
                    true,
                );
            }
        }
        Ok(found)
    }
}
