//! Staff work on accounts: superusers made from the command line (`create-superuser`), and the
//! admin operations on any user (list and search, deactivate and reactivate, change the role),
//! shared by the admin GraphQL fields and the operators' console. Every admin change writes its
//! audit row in the same transaction.

use chrono::Utc;
use entity::{admin_sessions, refresh_tokens, users};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait,
    EntityTrait, IntoActiveModel as _, PaginatorTrait as _, QueryFilter, TransactionTrait as _,
    sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    AppState,
    audit::{self, Entry},
    auth::{
        Viewer,
        jwt::role_name,
        password,
        service::{check_name, normalize_email},
    },
    error::{AppError, AppResult},
    paging::{Cursor, Page},
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

/// Which users to list; every field given narrows the list.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Part of the email, the name or the phone number (any case).
    pub search: Option<String>,
    pub role: Option<users::Role>,
    pub is_active: Option<bool>,
}

/// `%text%` for LIKE, with the pattern characters in `text` taken literally.
pub fn like_pattern(text: &str) -> String {
    let escaped = text
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// `lower(column) LIKE %text%` (escaped), the same on SQLite and PostgreSQL.
pub fn contains_ci(
    column: impl sea_orm::ColumnTrait,
    text: &str,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait as _, Func, LikeExpr};
    Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(like_pattern(text)).escape('\\'))
}

/// Admin listing: users newest first, with the total under the filter.
pub async fn list_users(
    conn: &impl ConnectionTrait,
    filter: &UserFilter,
    page: &Page<Cursor>,
) -> AppResult<(Vec<users::Model>, i64)> {
    let mut condition = Condition::all();
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        condition = condition.add(
            Condition::any()
                .add(contains_ci(users::Column::Email, search))
                .add(contains_ci(users::Column::FullName, search))
                .add(contains_ci(users::Column::Phone, search)),
        );
    }
    if let Some(role) = filter.role {
        condition = condition.add(users::Column::Role.eq(role));
    }
    if let Some(active) = filter.is_active {
        condition = condition.add(users::Column::IsActive.eq(active));
    }
    crate::paging::newest_first::<users::Entity>(
        conn,
        condition,
        users::Column::CreatedAt,
        users::Column::Id,
        page,
    )
    .await
}

/// Admin: a user, or NOT_FOUND.
pub async fn find_user(conn: &impl ConnectionTrait, user_id: Uuid) -> AppResult<users::Model> {
    users::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("user"))
}

/// Admin: deactivates (or reactivates) an account, with a reason. A deactivated user's access
/// tokens stop working at once (open WebSockets close), their refresh tokens and console
/// sessions are revoked, and signing in is refused until an admin reactivates them. The change
/// and its audit row commit together; setting the state it already has changes nothing.
#[tracing::instrument(skip(state, reason), fields(actor = %actor.user_id))]
pub async fn set_user_active(
    state: &AppState,
    actor: Viewer,
    user_id: Uuid,
    active: bool,
    reason: &str,
) -> AppResult<users::Model> {
    let txn = state.db.begin().await?;
    let (user, changed) = set_active_in(&txn, actor, user_id, active, reason).await?;
    txn.commit().await?;
    if changed {
        publish_active(state, &user).await;
    }
    Ok(user)
}

/// The writes of [`set_user_active`] in the caller's transaction (another admin action may
/// include it): the user and whether anything changed. After the commit, call
/// [`publish_active`] when it did.
pub async fn set_active_in(
    conn: &impl ConnectionTrait,
    actor: Viewer,
    user_id: Uuid,
    active: bool,
    reason: &str,
) -> AppResult<(users::Model, bool)> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::bad_input(
            "reason",
            "say why the account is (re)activated",
        ));
    }
    if user_id == actor.user_id && !active {
        return Err(AppError::bad_input(
            "userId",
            "you cannot deactivate your own account",
        ));
    }
    let now = Utc::now();
    let user = find_user(conn, user_id).await?;
    if user.is_active == active {
        return Ok((user, false));
    }
    let mut row = user.clone().into_active_model();
    row.is_active = Set(active);
    row.updated_at = Set(now);
    let updated = row.update(conn).await?;
    if !active {
        refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
            .filter(refresh_tokens::Column::UserId.eq(user_id))
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(conn)
            .await?;
        admin_sessions::Entity::delete_many()
            .filter(admin_sessions::Column::UserId.eq(user_id))
            .exec(conn)
            .await?;
    }
    audit::record(
        conn,
        Entry::new(
            actor.user_id,
            if active {
                "user.reactivate"
            } else {
                "user.deactivate"
            },
            "user",
            user_id,
        )
        .reason(Some(reason))
        .change(
            json!({ "isActive": user.is_active }),
            json!({ "isActive": active }),
        ),
    )
    .await?;
    Ok((updated, true))
}

/// After a committed (de)activation: this and every other instance refuse (or again accept)
/// the user's tokens, and the user's open sockets close.
pub async fn publish_active(state: &AppState, user: &users::Model) {
    // Reactivated, only tokens with the current role work (any other is stale anyway).
    let accepted = user.is_active.then_some(user.role);
    state
        .revocations
        .publish(&state.pubsub, user.id, accepted)
        .await;
}

/// Admin: changes a user's role. Only a user with a vendor profile can be a VENDOR, and only one
/// without can be a CUSTOMER; an admin cannot demote themselves (someone must stay able to undo
/// it). Tokens issued before the change stop working (a refresh gives one with the new role).
#[tracing::instrument(skip(state), fields(actor = %actor.user_id))]
pub async fn set_user_role(
    state: &AppState,
    actor: Viewer,
    user_id: Uuid,
    role: users::Role,
) -> AppResult<users::Model> {
    if user_id == actor.user_id && role != users::Role::Admin {
        return Err(AppError::bad_input(
            "role",
            "you cannot take away your own admin role",
        ));
    }
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let user = find_user(&txn, user_id).await?;
    if user.role == role {
        return Ok(user);
    }
    let has_vendor = entity::vendors::Entity::find()
        .filter(entity::vendors::Column::UserId.eq(user_id))
        .count(&txn)
        .await?
        > 0;
    match role {
        users::Role::Vendor if !has_vendor => {
            return Err(AppError::bad_input(
                "role",
                "only a user with a vendor profile can be a vendor",
            ));
        }
        users::Role::Customer if has_vendor => {
            return Err(AppError::bad_input(
                "role",
                "this user has a vendor profile: make them a vendor",
            ));
        }
        _ => {}
    }
    let mut row = user.clone().into_active_model();
    row.role = Set(role);
    row.updated_at = Set(now);
    let updated = row.update(&txn).await?;
    if user.role == users::Role::Admin {
        admin_sessions::Entity::delete_many()
            .filter(admin_sessions::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
    }
    audit::record(
        &txn,
        Entry::new(actor.user_id, "user.set_role", "user", user_id).change(
            json!({ "role": role_name(user.role) }),
            json!({ "role": role_name(role) }),
        ),
    )
    .await?;
    txn.commit().await?;
    // Tokens claiming the old role stop working; a refresh gives one with the new role.
    state
        .revocations
        .publish(&state.pubsub, user_id, Some(role))
        .await;
    Ok(updated)
}
