//! `systemSettings` (everyone may read) and `updateSystemSetting` (admins).

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::service::{self, Setting};
use crate::{error::AppResult, graphql::context::ContextExt as _};

/// A platform-wide setting.
#[derive(SimpleObject)]
pub struct SystemSetting {
    /// e.g. `commission_rate_bps`.
    pub key: String,
    /// The current value, as text (all current settings are whole numbers).
    pub value: String,
    /// What the setting controls, and its unit.
    pub description: String,
    /// When an admin last changed it; null while it has its default.
    pub updated_at: Option<DateTime<Utc>>,
}

impl SystemSetting {
    fn new(setting: Setting, value: i64, updated_at: Option<DateTime<Utc>>) -> Self {
        Self {
            key: setting.key().to_owned(),
            value: value.to_string(),
            description: setting.description().to_owned(),
            updated_at,
        }
    }
}

#[derive(Default)]
pub struct SettingsQuery;

#[Object]
impl SettingsQuery {
    /// Every platform setting with its current value.
    async fn system_settings(&self, ctx: &Context<'_>) -> AppResult<Vec<SystemSetting>> {
        let list = service::list(&ctx.state().db).await?;
        Ok(list
            .into_iter()
            .map(|(setting, value, at)| SystemSetting::new(setting, value, at))
            .collect())
    }
}

#[derive(Default)]
pub struct SettingsMutation;

#[Object]
impl SettingsMutation {
    /// Admin: changes a setting. Unknown keys and out-of-range values are refused.
    async fn update_system_setting(
        &self,
        ctx: &Context<'_>,
        key: String,
        value: String,
    ) -> AppResult<SystemSetting> {
        let actor = ctx.admin()?;
        let (setting, value) =
            super::admin::update_setting(ctx.state(), actor, &key, &value).await?;
        Ok(SystemSetting::new(setting, value, Some(Utc::now())))
    }
}
