//! Profile and address rules.

use chrono::Utc;
use entity::{addresses, users};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait,
    IntoActiveModel as _, PaginatorTrait as _, QueryFilter, QueryOrder as _, sea_query::Expr,
};
use uuid::Uuid;

pub use crate::address::Address;
use crate::{
    auth::service::{active_user, check_name, normalize_phone},
    error::{AppError, AppResult},
};

/// The most addresses one user may keep.
pub const MAX_ADDRESSES: u64 = 25;

#[derive(Debug, Clone, Default)]
pub struct UpdateProfileInput {
    pub full_name: Option<String>,
    /// `Some("")` clears the phone number.
    pub phone: Option<String>,
}

pub async fn update_profile(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    input: UpdateProfileInput,
) -> AppResult<users::Model> {
    let user = active_user(conn, user_id).await?;
    let mut active = user.into_active_model();
    if let Some(name) = input.full_name {
        active.full_name = Set(check_name("fullName", &name)?);
    }
    if let Some(phone) = input.phone {
        active.phone = Set(if phone.trim().is_empty() {
            None
        } else {
            Some(normalize_phone("phone", &phone)?)
        });
    }
    active.updated_at = Set(Utc::now());
    Ok(active.update(conn).await?)
}

/// The user's addresses, the default first, then newest first.
pub async fn list_addresses(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
) -> AppResult<Vec<addresses::Model>> {
    Ok(addresses::Entity::find()
        .filter(addresses::Column::UserId.eq(user_id))
        .order_by_desc(addresses::Column::IsDefault)
        .order_by_desc(addresses::Column::CreatedAt)
        .order_by_asc(addresses::Column::Id)
        .all(conn)
        .await?)
}

/// One of the user's own addresses; anyone else's is NOT_FOUND.
pub async fn own_address(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> AppResult<addresses::Model> {
    addresses::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|a| a.user_id == user_id)
        .ok_or_else(|| AppError::not_found("address"))
}

/// Adds an address; the user's first address becomes the default.
pub async fn create_address(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    input: Address,
) -> AppResult<addresses::Model> {
    let checked = input.check()?.into_inner();
    let count = addresses::Entity::find()
        .filter(addresses::Column::UserId.eq(user_id))
        .count(conn)
        .await?;
    if count >= MAX_ADDRESSES {
        return Err(AppError::BadUserInput {
            message: format!("you can keep at most {MAX_ADDRESSES} addresses"),
            field: None,
        });
    }
    let now = Utc::now();
    Ok(addresses::ActiveModel {
        id: Set(crate::db::new_id()),
        user_id: Set(user_id),
        label: Set(checked.label),
        line1: Set(checked.line1),
        line2: Set(checked.line2),
        city: Set(checked.city),
        state: Set(checked.state),
        pincode: Set(checked.pincode),
        latitude: Set(checked.latitude),
        longitude: Set(checked.longitude),
        is_default: Set(count == 0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?)
}

pub async fn update_address(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
    input: Address,
) -> AppResult<addresses::Model> {
    let checked = input.check()?.into_inner();
    let mut active = own_address(conn, user_id, id).await?.into_active_model();
    active.label = Set(checked.label);
    active.line1 = Set(checked.line1);
    active.line2 = Set(checked.line2);
    active.city = Set(checked.city);
    active.state = Set(checked.state);
    active.pincode = Set(checked.pincode);
    active.latitude = Set(checked.latitude);
    active.longitude = Set(checked.longitude);
    active.updated_at = Set(Utc::now());
    Ok(active.update(conn).await?)
}

/// Deletes an address. If it was the default, the newest remaining one becomes the default.
/// Run inside a transaction.
pub async fn delete_address(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> AppResult<bool> {
    let address = own_address(conn, user_id, id).await?;
    addresses::Entity::delete_by_id(address.id)
        .exec(conn)
        .await?;
    if address.is_default {
        let next = addresses::Entity::find()
            .filter(addresses::Column::UserId.eq(user_id))
            .order_by_desc(addresses::Column::CreatedAt)
            .one(conn)
            .await?;
        if let Some(next) = next {
            set_default_flag(conn, next.id, true).await?;
        }
    }
    Ok(true)
}

/// Makes one address the default. Run inside a transaction: the old default is cleared first
/// so the one-default index is never violated.
pub async fn set_default_address(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> AppResult<addresses::Model> {
    let address = own_address(conn, user_id, id).await?;
    addresses::Entity::update_many()
        .col_expr(addresses::Column::IsDefault, Expr::value(false))
        .filter(addresses::Column::UserId.eq(user_id))
        .filter(addresses::Column::IsDefault.eq(true))
        .exec(conn)
        .await?;
    set_default_flag(conn, address.id, true).await?;
    own_address(conn, user_id, id).await
}

async fn set_default_flag(conn: &impl ConnectionTrait, id: Uuid, value: bool) -> AppResult<()> {
    addresses::Entity::update_many()
        .col_expr(addresses::Column::IsDefault, Expr::value(value))
        .col_expr(addresses::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(addresses::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}
