//! Batched catalog lookups: categories, products, their images, wishlist membership.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{categories, product_images, products, wishlist_items};
use sea_orm::{ColumnTrait as _, EntityTrait, QueryFilter, QueryOrder as _};
use uuid::Uuid;

use crate::{
    error::AppError,
    loader::{AppLoader, ById, grouped},
};

/// A category by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CategoryById(pub Uuid);

/// The direct subcategories of a category, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CategoryChildren(pub Uuid);

impl ById for CategoryById {
    type Entity = categories::Entity;
    const ID: categories::Column = categories::Column::Id;
    fn id(self) -> Uuid {
        self.0
    }
    fn of(row: &categories::Model) -> Self {
        Self(row.id)
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
        // Every row has a parent: only children of the keys were asked for.
        Ok(grouped(keys, rows, |row| {
            CategoryChildren(row.parent_id.unwrap_or_default())
        }))
    }
}

/// A product by id (whatever its visibility: the parent field decided).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProductById(pub Uuid);

impl ById for ProductById {
    type Entity = products::Entity;
    const ID: products::Column = products::Column::Id;
    fn id(self) -> Uuid {
        self.0
    }
    fn of(row: &products::Model) -> Self {
        Self(row.id)
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
