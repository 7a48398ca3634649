//! Product rules: a vendor manages its own products; prices are positive paise, stock is never
//! negative; deleting is a soft delete so orders keep their lines. The public sees a product only
//! when it is active, not deleted, and its vendor is APPROVED.

use chrono::{SubsecRound as _, Utc};
use entity::{
    products::{self, Unit},
    vendors::{self, KycStatus},
};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel as _,
};
use uuid::Uuid;

use super::categories;
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    validate::optional_text,
};

/// The largest stock a product may list (keeps `stock` arithmetic far from overflow).
pub const MAX_STOCK: i32 = 1_000_000;
/// The highest unit price: ₹1 crore.
pub const MAX_PRICE: i64 = 1_000_000_000;

#[derive(Debug, Clone)]
pub struct ProductInput {
    pub name: String,
    pub description: Option<String>,
    pub category_id: Uuid,
    pub unit: Unit,
    pub price: i64,
    pub stock: i32,
    pub is_active: Option<bool>,
}

struct Checked {
    name: String,
    description: Option<String>,
    category_id: Uuid,
    unit: Unit,
    price: i64,
    stock: i32,
}

async fn check(conn: &impl ConnectionTrait, input: ProductInput) -> AppResult<Checked> {
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 150 {
        return Err(AppError::bad_input("name", "must be 1 to 150 characters"));
    }
    let description = optional_text("description", input.description, 5000)?;
    if !(1..=MAX_PRICE).contains(&input.price) {
        return Err(AppError::bad_input(
            "price",
            "must be at least 1 paisa and at most ₹1,00,00,000",
        ));
    }
    if !(0..=MAX_STOCK).contains(&input.stock) {
        return Err(AppError::bad_input(
            "stock",
            format!("must be between 0 and {MAX_STOCK}"),
        ));
    }
    categories::find(conn, input.category_id)
        .await
        .map_err(|_| AppError::bad_input("categoryId", "no such category"))?;
    Ok(Checked {
        name,
        description,
        category_id: input.category_id,
        unit: input.unit,
        price: input.price,
        stock: input.stock,
    })
}

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<products::Model>> {
    Ok(products::Entity::find_by_id(id).one(conn).await?)
}

/// Whether the public (and so buyers) can see and order `product` of `vendor`.
pub fn is_listed(product: &products::Model, vendor: &vendors::Model) -> bool {
    product.is_active && product.deleted_at.is_none() && vendor.kyc_status == KycStatus::Approved
}

/// Whether `viewer` may see `product`: listed products to everyone; the rest (but deleted
/// ones) to the vendor that owns them and to admins.
pub fn may_see(
    viewer: Option<&Viewer>,
    product: &products::Model,
    vendor: &vendors::Model,
) -> bool {
    if is_listed(product, vendor) {
        return true;
    }
    product.deleted_at.is_none()
        && viewer.is_some_and(|v| v.is_admin() || v.user_id == vendor.user_id)
}

/// A product of `vendor`, or NOT_FOUND (also for another vendor's product).
pub async fn own(
    conn: &impl ConnectionTrait,
    vendor: &vendors::Model,
    id: Uuid,
) -> AppResult<products::Model> {
    find(conn, id)
        .await?
        .filter(|p| p.vendor_id == vendor.id && p.deleted_at.is_none())
        .ok_or_else(|| AppError::not_found("product"))
}

pub async fn create(
    conn: &impl ConnectionTrait,
    vendor: &vendors::Model,
    input: ProductInput,
) -> AppResult<products::Model> {
    let is_active = input.is_active.unwrap_or(true);
    let c = check(conn, input).await?;
    // Microseconds, as PostgreSQL keeps them: the keyset cursor must match the stored value.
    let now = Utc::now().trunc_subsecs(6);
    Ok(products::ActiveModel {
        id: Set(crate::db::new_id()),
        vendor_id: Set(vendor.id),
        category_id: Set(c.category_id),
        name: Set(c.name),
        description: Set(c.description),
        unit: Set(c.unit),
        price: Set(c.price),
        stock: Set(c.stock),
        is_active: Set(is_active),
        rating: Set(0.0),
        review_count: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
    .insert(conn)
    .await?)
}

pub async fn update(
    conn: &impl ConnectionTrait,
    vendor: &vendors::Model,
    id: Uuid,
    input: ProductInput,
) -> AppResult<products::Model> {
    let existing = own(conn, vendor, id).await?;
    let is_active = input.is_active.unwrap_or(existing.is_active);
    let c = check(conn, input).await?;
    let mut product = existing.into_active_model();
    product.name = Set(c.name);
    product.description = Set(c.description);
    product.category_id = Set(c.category_id);
    product.unit = Set(c.unit);
    product.price = Set(c.price);
    product.stock = Set(c.stock);
    product.is_active = Set(is_active);
    product.updated_at = Set(Utc::now());
    Ok(product.update(conn).await?)
}

/// Soft delete: the product disappears from listings and wishlists keep no dangling entry;
/// orders that contain it keep their lines.
pub async fn delete(
    conn: &impl ConnectionTrait,
    vendor: &vendors::Model,
    id: Uuid,
) -> AppResult<bool> {
    let mut product = own(conn, vendor, id).await?.into_active_model();
    let now = Utc::now();
    product.deleted_at = Set(Some(now));
    product.is_active = Set(false);
    product.updated_at = Set(now);
    product.update(conn).await?;
    Ok(true)
}
