//! The account emails: verification, OTP, password reset.

use anyhow::Context as _;
use entity::users;
use sea_orm::EntityTrait as _;
use uuid::Uuid;

use crate::{AppState, mail::templates};

pub(super) async fn recipient(state: &AppState, user_id: Uuid) -> anyhow::Result<users::Model> {
    users::Entity::find_by_id(user_id)
        .one(&state.db)
        .await
        .context("load the recipient")?
        .with_context(|| format!("user {user_id} no longer exists"))
}

pub async fn send_verification(state: &AppState, user_id: Uuid, token: &str) -> anyhow::Result<()> {
    let user = recipient(state, user_id).await?;
    let link = format!("{}/verify-email?token={token}", state.config.public_url);
    let email = templates::verification(&user.email, &user.full_name, &link, token);
    state.mailer.send(&email).await
}

pub async fn send_otp(state: &AppState, user_id: Uuid, code: &str) -> anyhow::Result<()> {
    let user = recipient(state, user_id).await?;
    state
        .mailer
        .send(&templates::otp(&user.email, &user.full_name, code))
        .await
}

pub async fn send_password_reset(
    state: &AppState,
    user_id: Uuid,
    token: &str,
) -> anyhow::Result<()> {
    let user = recipient(state, user_id).await?;
    let link = format!("{}/reset-password?token={token}", state.config.public_url);
    let email = templates::password_reset(&user.email, &user.full_name, &link, token);
    state.mailer.send(&email).await
}
