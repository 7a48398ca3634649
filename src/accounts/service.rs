//! Profile and address rules.

use chrono::Utc;
use entity::{addresses, users};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait,
    IntoActiveModel as _, PaginatorTrait as _, QueryFilter, QueryOrder as _, sea_query::Expr,
};
use uuid::Uuid;

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

/// A new or changed address, as entered.
#[derive(Debug, Clone)]
pub struct AddressInput {
    pub label: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state: String,
    pub pincode: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// An address whose fields passed [`check_address`].
pub struct CheckedAddress {
    pub label: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state: String,
    pub pincode: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// Trims and validates an address as entered (PIN code, lengths, coordinates).
pub fn check_address(input: AddressInput) -> AppResult<CheckedAddress> {
    let text = |field: &str, value: &str, max: usize| -> AppResult<String> {
        let value = value.trim();
        if value.is_empty() {
            return Err(AppError::bad_input(field, "must not be empty"));
        }
        if value.chars().count() > max {
            return Err(AppError::bad_input(
                field,
                format!("must be at most {max} characters"),
            ));
        }
        Ok(value.to_owned())
    };
    let pincode = input.pincode.trim().to_owned();
    if pincode.len() != 6
        || !pincode.chars().all(|c| c.is_ascii_digit())
        || pincode.starts_with('0')
    {
        return Err(AppError::bad_input("pincode", "enter a 6-digit PIN code"));
    }
    match (input.latitude, input.longitude) {
        (Some(lat), Some(lng)) => {
            if !(-90.0..=90.0).contains(&lat) || lat.is_nan() {
                return Err(AppError::bad_input(
                    "latitude",
                    "must be between -90 and 90",
                ));
            }
            if !(-180.0..=180.0).contains(&lng) || lng.is_nan() {
                return Err(AppError::bad_input(
                    "longitude",
                    "must be between -180 and 180",
                ));
            }
        }
        (None, None) => {}
        (Some(_), None) => {
            return Err(AppError::bad_input(
                "longitude",
                "give both latitude and longitude",
            ));
        }
        (None, Some(_)) => {
            return Err(AppError::bad_input(
                "latitude",
                "give both latitude and longitude",
            ));
        }
    }
    Ok(CheckedAddress {
        label: text("label", &input.label, 50)?,
        line1: text("line1", &input.line1, 200)?,
        line2: input
            .line2
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| text("line2", l, 200))
            .transpose()?,
        city: text("city", &input.city, 100)?,
        state: text("state", &input.state, 100)?,
        pincode,
        latitude: input.latitude,
        longitude: input.longitude,
    })
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
    input: AddressInput,
) -> AppResult<addresses::Model> {
    let checked = check_address(input)?;
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
    input: AddressInput,
) -> AppResult<addresses::Model> {
    let checked = check_address(input)?;
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
