//! Wishlists: a user's saved products. Toggling is idempotent per call: it flips membership.

use chrono::Utc;
use entity::wishlist_items;
use sea_orm::{ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::AppResult;

/// Adds the product if absent, removes it if present. Returns whether it is now saved.
pub async fn toggle(conn: &impl ConnectionTrait, user: Uuid, product: Uuid) -> AppResult<bool> {
    let removed = wishlist_items::Entity::delete_many()
        .filter(wishlist_items::Column::UserId.eq(user))
        .filter(wishlist_items::Column::ProductId.eq(product))
        .exec(conn)
        .await?;
    if removed.rows_affected > 0 {
        return Ok(false);
    }
    wishlist_items::Entity::insert(wishlist_items::ActiveModel {
        user_id: Set(user),
        product_id: Set(product),
        created_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([
        wishlist_items::Column::UserId,
        wishlist_items::Column::ProductId,
    ])
    .exec_without_returning(conn)
    .await?;
    Ok(true)
}
