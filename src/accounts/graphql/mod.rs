//! `me`, `updateProfile` and the address operations.

pub mod admin;

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::{addresses, users};
use sea_orm::TransactionTrait as _;

use super::service;
use crate::{
    error::AppResult,
    graphql::{context::ContextExt as _, ids::parse_id},
};

/// What a user may do.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Role {
    /// Every registered user: buys scrap.
    Customer,
    /// A user with a vendor profile: sells scrap.
    Vendor,
    /// Platform staff.
    Admin,
}

impl From<users::Role> for Role {
    fn from(role: users::Role) -> Self {
        match role {
            users::Role::Customer => Self::Customer,
            users::Role::Vendor => Self::Vendor,
            users::Role::Admin => Self::Admin,
        }
    }
}

/// A registered user.
pub struct User(pub users::Model);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn email(&self) -> &str {
        &self.0.email
    }

    async fn full_name(&self) -> &str {
        &self.0.full_name
    }

    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }

    async fn role(&self) -> Role {
        self.0.role.into()
    }

    /// Whether the email address was confirmed through the emailed link.
    async fn email_verified(&self) -> bool {
        self.0.email_verified_at.is_some()
    }

    /// Whether signing in also asks for a code sent by email.
    async fn two_factor_enabled(&self) -> bool {
        self.0.two_factor_enabled
    }

    /// False once an admin deactivated the account (it can no longer sign in).
    async fn is_active(&self) -> bool {
        self.0.is_active
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A saved address.
pub struct Address(pub addresses::Model);

#[Object]
impl Address {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The user's name for it: "Home", "Shop", …
    async fn label(&self) -> &str {
        &self.0.label
    }

    async fn line1(&self) -> &str {
        &self.0.line1
    }

    async fn line2(&self) -> Option<&str> {
        self.0.line2.as_deref()
    }

    async fn city(&self) -> &str {
        &self.0.city
    }

    async fn state(&self) -> &str {
        &self.0.state
    }

    /// The 6-digit Indian PIN code.
    async fn pincode(&self) -> &str {
        &self.0.pincode
    }

    /// Degrees north (geographic coordinate, not money).
    async fn latitude(&self) -> Option<f64> {
        self.0.latitude
    }

    /// Degrees east.
    async fn longitude(&self) -> Option<f64> {
        self.0.longitude
    }

    /// Used when an order names no address. Exactly one address is the default.
    async fn is_default(&self) -> bool {
        self.0.is_default
    }
}

/// Fields of the profile to change; omitted ones stay as they are.
#[derive(InputObject)]
pub struct UpdateProfileInput {
    pub full_name: Option<String>,
    /// An empty string removes the phone number.
    pub phone: Option<String>,
}

/// An address as entered.
#[derive(InputObject)]
pub struct AddressInput {
    pub label: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state: String,
    /// A 6-digit Indian PIN code.
    pub pincode: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl From<AddressInput> for crate::address::Address {
    fn from(input: AddressInput) -> Self {
        Self {
            label: input.label,
            line1: input.line1,
            line2: input.line2,
            city: input.city,
            state: input.state,
            pincode: input.pincode,
            latitude: input.latitude,
            longitude: input.longitude,
        }
    }
}

#[derive(Default)]
pub struct AccountsQuery;

#[Object]
impl AccountsQuery {
    /// The signed-in user; null when anonymous.
    async fn me(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        let Some(viewer) = ctx.auth().optional_viewer()? else {
            return Ok(None);
        };
        let user = crate::auth::service::active_user(&ctx.state().db, viewer.user_id).await?;
        Ok(Some(User(user)))
    }

    /// The signed-in user's addresses, the default first.
    async fn addresses(&self, ctx: &Context<'_>) -> AppResult<Vec<Address>> {
        let viewer = ctx.viewer()?;
        let list = service::list_addresses(&ctx.state().db, viewer.user_id).await?;
        Ok(list.into_iter().map(Address).collect())
    }
}

#[derive(Default)]
pub struct AccountsMutation;

#[Object]
impl AccountsMutation {
    /// Changes the signed-in user's name or phone.
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateProfileInput,
    ) -> AppResult<User> {
        let viewer = ctx.viewer()?;
        let user = service::update_profile(
            &ctx.state().db,
            viewer.user_id,
            service::UpdateProfileInput {
                full_name: input.full_name,
                phone: input.phone,
            },
        )
        .await?;
        Ok(User(user))
    }

    /// Saves a new address. The first one becomes the default.
    async fn create_address(&self, ctx: &Context<'_>, input: AddressInput) -> AppResult<Address> {
        let viewer = ctx.viewer()?;
        let txn = ctx.state().db.begin().await?;
        let address = service::create_address(&txn, viewer.user_id, input.into()).await?;
        txn.commit().await?;
        Ok(Address(address))
    }

    async fn update_address(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: AddressInput,
    ) -> AppResult<Address> {
        let viewer = ctx.viewer()?;
        let id = parse_id("id", &id)?;
        let address =
            service::update_address(&ctx.state().db, viewer.user_id, id, input.into()).await?;
        Ok(Address(address))
    }

    /// Deletes an address. If it was the default, the newest remaining one becomes the default.
    async fn delete_address(&self, ctx: &Context<'_>, id: ID) -> AppResult<bool> {
        let viewer = ctx.viewer()?;
        let id = parse_id("id", &id)?;
        let txn = ctx.state().db.begin().await?;
        let deleted = service::delete_address(&txn, viewer.user_id, id).await?;
        txn.commit().await?;
        Ok(deleted)
    }

    /// Makes this address the default (and no other).
    async fn set_default_address(&self, ctx: &Context<'_>, id: ID) -> AppResult<Address> {
        let viewer = ctx.viewer()?;
        let id = parse_id("id", &id)?;
        let txn = ctx.state().db.begin().await?;
        let address = service::set_default_address(&txn, viewer.user_id, id).await?;
        txn.commit().await?;
        Ok(Address(address))
    }
}
