//! Staff accounts, made from the command line (`create-superuser`), never through the API.

use chrono::Utc;
use entity::users;
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait,
    IntoActiveModel as _, QueryFilter,
};
use uuid::Uuid;

use crate::{
    auth::{
        password,
        service::{check_name, normalize_email},
    },
    error::AppResult,
};

/// Creates a verified admin, or makes the existing account with that email an admin with the
/// given password. Returns the user and whether it was created.
pub async fn create_superuser(
    conn: &impl ConnectionTrait,
    email: &str,
    new_password: &str,
    name: &str,
) -> AppResult<(users::Model, bool)> {
    let email = normalize_email("email", email)?;
    password::check_strength("password", new_password)?;
    let name = check_name("name", name)?;
    let hash = password::hash(new_password.to_owned()).await?;
    let now = Utc::now();
    let existing = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .one(conn)
        .await?;
    if let Some(user) = existing {
        let mut active = user.into_active_model();
        active.role = Set(users::Role::Admin);
        active.password_hash = Set(hash);
        active.is_active = Set(true);
        active.updated_at = Set(now);
        return Ok((active.update(conn).await?, false));
    }
    let user = verified_user_row(
        crate::db::new_id(),
        email,
        name,
        users::Role::Admin,
        hash,
        now,
    )
    .insert(conn)
    .await?;
    Ok((user, true))
}

/// A new, active account with a verified email, ready to insert: what staff tools (superusers,
/// the demo seed, the benchmarks) create without going through registration.
pub fn verified_user_row(
    id: Uuid,
    email: String,
    name: String,
    role: users::Role,
    password_hash: String,
    now: chrono::DateTime<Utc>,
) -> users::ActiveModel {
    users::ActiveModel {
        id: Set(id),
        email: Set(email),
        password_hash: Set(password_hash),
        full_name: Set(name),
        phone: Set(None),
        role: Set(role),
        email_verified_at: Set(Some(now)),
        two_factor_enabled: Set(false),
        is_active: Set(true),
        last_seen_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}
