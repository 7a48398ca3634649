//! Product images: public files under `products/{product}/`, shown in `position` order. At most
//! [`MAX_IMAGES`] per product.

use std::collections::HashMap;

use chrono::Utc;
use entity::{product_images, products, vendors};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait,
    PaginatorTrait as _, QueryFilter, QueryOrder as _, QuerySelect as _,
};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    storage::{Storage, sniff::FileKind},
};

pub const MAX_IMAGES: u64 = 10;

/// Adds an image after the product's last one.
pub async fn add(
    conn: &impl ConnectionTrait,
    storage: &Storage,
    product: &products::Model,
    bytes: &[u8],
    file: FileKind,
) -> AppResult<product_images::Model> {
    let existing = product_images::Entity::find()
        .filter(product_images::Column::ProductId.eq(product.id))
        .count(conn)
        .await?;
    if existing >= MAX_IMAGES {
        return Err(AppError::bad_input(
            "file",
            format!("a product has at most {MAX_IMAGES} images"),
        ));
    }
    let last: Option<i32> = product_images::Entity::find()
        .select_only()
        .column(product_images::Column::Position)
        .filter(product_images::Column::ProductId.eq(product.id))
        .order_by_desc(product_images::Column::Position)
        .into_tuple()
        .one(conn)
        .await?;
    let id = crate::db::new_id();
    let key = format!("products/{}/{id}.{}", product.id, file.extension());
    storage.put(&key, bytes).await.map_err(AppError::from)?;
    let inserted = product_images::ActiveModel {
        id: Set(id),
        product_id: Set(product.id),
        storage_key: Set(key.clone()),
        content_type: Set(file.content_type().to_owned()),
        position: Set(last.map_or(0, |p| p + 1)),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await;
    match inserted {
        Ok(image) => Ok(image),
        Err(err) => {
            storage.delete(&key).await.ok();
            Err(err.into())
        }
    }
}

/// Removes an image of one of `vendor`'s products; NOT_FOUND for anyone else's.
pub async fn remove(
    conn: &impl ConnectionTrait,
    storage: &Storage,
    vendor: &vendors::Model,
    image_id: Uuid,
) -> AppResult<bool> {
    let image = product_images::Entity::find_by_id(image_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("image"))?;
    let product = products::Entity::find_by_id(image.product_id)
        .one(conn)
        .await?
        .filter(|p| p.vendor_id == vendor.id)
        .ok_or_else(|| AppError::not_found("image"))?;
    product_images::Entity::delete_by_id(image.id)
        .exec(conn)
        .await?;
    if let Err(err) = storage.delete(&image.storage_key).await {
        // The row is gone, so nobody links to the file any more; a stray file is only disk.
        tracing::warn!(error = %err, product = %product.id, "could not delete an image file");
    }
    Ok(true)
}

/// The images of each of `products`, in display order, in one statement (a product without
/// images maps to an empty list).
pub async fn of_products(
    conn: &impl ConnectionTrait,
    products: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<product_images::Model>>> {
    let rows = product_images::Entity::find()
        .filter(product_images::Column::ProductId.is_in(products.iter().copied()))
        .order_by_asc(product_images::Column::Position)
        .order_by_asc(product_images::Column::CreatedAt)
        .all(conn)
        .await?;
    let mut grouped: HashMap<Uuid, Vec<product_images::Model>> =
        products.iter().map(|id| (*id, Vec::new())).collect();
    for row in rows {
        grouped.entry(row.product_id).or_default().push(row);
    }
    Ok(grouped)
}
