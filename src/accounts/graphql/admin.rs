//! The admin operations on users: `users`, `setUserActive`, `setUserRole`.

use async_graphql::{Context, ID, InputObject, Object, connection::Connection};
use entity::users;

use super::{Role, User};
use crate::accounts::admin::{self, UserFilter};
use crate::{
    error::AppResult,
    graphql::{
        context::ContextExt as _,
        ids::parse_id,
        relay::{self, ConnectionFields, Cursor, Page},
    },
};

impl From<Role> for users::Role {
    fn from(role: Role) -> Self {
        match role {
            Role::Customer => Self::Customer,
            Role::Vendor => Self::Vendor,
            Role::Admin => Self::Admin,
        }
    }
}

/// Narrows the user list; every field given must match.
#[derive(InputObject, Default)]
pub struct UsersFilter {
    /// Part of the email, the name or the phone number (any case).
    pub search: Option<String>,
    pub role: Option<Role>,
    /// Active (true) or deactivated (false) accounts only.
    pub is_active: Option<bool>,
}

#[derive(Default)]
pub struct AccountsAdminQuery;

#[Object]
impl AccountsAdminQuery {
    /// Admin: users, newest first, searched by email, name or phone and filtered by role and
    /// status.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        filter: Option<UsersFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Connection<Cursor, User, ConnectionFields>> {
        ctx.admin()?;
        let filter = filter.unwrap_or_default();
        let filter = UserFilter {
            search: filter.search,
            role: filter.role.map(Into::into),
            is_active: filter.is_active,
        };
        let page = Page::<Cursor>::new(first, after)?;
        let (rows, total) = admin::list_users(&ctx.state().db, &filter, &page).await?;
        Ok(relay::connection(
            &page,
            rows,
            total,
            |user| Cursor {
                at: user.created_at,
                id: user.id,
            },
            User,
        ))
    }
}

#[derive(Default)]
pub struct AccountsAdminMutation;

#[Object]
impl AccountsAdminMutation {
    /// Admin: deactivates (`active: false`) or reactivates an account, with a reason. A
    /// deactivated user's tokens stop working at once (open subscriptions are closed) and
    /// signing in is refused. Written to the audit log.
    async fn set_user_active(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        active: bool,
        reason: String,
    ) -> AppResult<User> {
        let actor = ctx.admin()?;
        let user_id = parse_id("userId", &user_id)?;
        let user = admin::set_user_active(ctx.state(), actor, user_id, active, &reason).await?;
        Ok(User(user))
    }

    /// Admin: changes a user's role (ADMIN makes them staff). The user's current tokens stop
    /// working; a refresh gives one with the new role. Written to the audit log.
    async fn set_user_role(&self, ctx: &Context<'_>, user_id: ID, role: Role) -> AppResult<User> {
        let actor = ctx.admin()?;
        let user_id = parse_id("userId", &user_id)?;
        let user = admin::set_user_role(ctx.state(), actor, user_id, role.into()).await?;
        Ok(User(user))
    }
}
