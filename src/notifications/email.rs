//! The `send_notification` job: emails a notification to a user who was not online when it was
//! created. A notification read meanwhile (or gone) is not emailed.

use anyhow::Context as _;
use entity::{notifications, users};
use sea_orm::EntityTrait as _;
use uuid::Uuid;

use crate::{AppState, mail::templates};

pub async fn send(state: &AppState, notification_id: Uuid) -> anyhow::Result<()> {
    let Some(notification) = notifications::Entity::find_by_id(notification_id)
        .one(&state.db)
        .await
        .context("load the notification")?
    else {
        return Ok(());
    };
    if notification.read_at.is_some() {
        return Ok(());
    }
    let user = users::Entity::find_by_id(notification.user_id)
        .one(&state.db)
        .await
        .context("load the recipient")?
        .with_context(|| format!("user {} no longer exists", notification.user_id))?;
    let link = match notification.order_id {
        Some(order) => format!("{}/orders/{order}", state.config.public_url),
        None => state.config.public_url.clone(),
    };
    let email = templates::notification(
        &user.email,
        &user.full_name,
        &notification.title,
        &notification.body,
        &link,
    );
    state.mailer.send(&email).await
}
