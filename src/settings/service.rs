//! Known settings, their validation, and reads that fall back to defaults.

use chrono::Utc;
use entity::system_settings;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait, QueryFilter as _,
    sea_query::OnConflict,
};

use crate::error::{AppError, AppResult};

/// Every setting the platform reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// Platform commission on completed orders, in basis points (500 = 5%).
    CommissionRateBps,
    /// Hours after delivery before a held payment is released automatically.
    AutoReleaseHours,
    /// Smallest wallet recharge, in paise.
    MinRechargePaise,
    /// Largest wallet recharge, in paise.
    MaxRechargePaise,
    /// What a vendor taking a pickup holds above its quote, in basis points of the quote.
    PickupHoldMarginBps,
}

impl Setting {
    pub const ALL: [Setting; 5] = [
        Self::CommissionRateBps,
        Self::AutoReleaseHours,
        Self::MinRechargePaise,
        Self::MaxRechargePaise,
        Self::PickupHoldMarginBps,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::CommissionRateBps => "commission_rate_bps",
            Self::AutoReleaseHours => "auto_release_hours",
            Self::MinRechargePaise => "min_recharge_paise",
            Self::MaxRechargePaise => "max_recharge_paise",
            Self::PickupHoldMarginBps => "pickup_hold_margin_bps",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::CommissionRateBps => {
                "Platform commission on completed orders, in basis points (500 = 5%)"
            }
            Self::AutoReleaseHours => {
                "Hours after delivery before the held payment is released to the vendor"
            }
            Self::MinRechargePaise => "Smallest wallet recharge, in paise",
            Self::MaxRechargePaise => "Largest wallet recharge, in paise",
            Self::PickupHoldMarginBps => {
                "What a vendor taking a pickup holds above its quote (heavier loads), in basis points (5000 = 50%)"
            }
        }
    }

    pub fn default_value(self) -> i64 {
        match self {
            Self::CommissionRateBps => 500,
            Self::AutoReleaseHours => 72,
            Self::MinRechargePaise => 10_000,
            Self::MaxRechargePaise => 10_000_000,
            Self::PickupHoldMarginBps => 5_000,
        }
    }

    fn range(self) -> std::ops::RangeInclusive<i64> {
        match self {
            Self::CommissionRateBps => 0..=5_000,
            Self::AutoReleaseHours => 1..=720,
            Self::MinRechargePaise => 100..=100_000_000,
            Self::MaxRechargePaise => 100..=1_000_000_000,
            Self::PickupHoldMarginBps => 0..=50_000,
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    /// Parses and range-checks a value given as text.
    pub fn parse(self, raw: &str) -> AppResult<i64> {
        let value: i64 = raw.trim().parse().map_err(|_| {
            AppError::bad_input("value", format!("{} takes a whole number", self.key()))
        })?;
        let range = self.range();
        if !range.contains(&value) {
            return Err(AppError::bad_input(
                "value",
                format!(
                    "{} must be between {} and {}",
                    self.key(),
                    range.start(),
                    range.end()
                ),
            ));
        }
        Ok(value)
    }
}

/// A setting's current value (the default when it was never set, or when a stored value no
/// longer parses).
pub async fn get(conn: &impl ConnectionTrait, setting: Setting) -> AppResult<i64> {
    let row = system_settings::Entity::find_by_id(setting.key().to_owned())
        .one(conn)
        .await?;
    Ok(row
        .and_then(|r| setting.parse(&r.value).ok())
        .unwrap_or_else(|| setting.default_value()))
}

/// The current values of `settings`, in the order asked, read with one query.
pub async fn get_many<const N: usize>(
    conn: &impl ConnectionTrait,
    settings: [Setting; N],
) -> AppResult<[i64; N]> {
    let rows = system_settings::Entity::find()
        .filter(system_settings::Column::Key.is_in(settings.map(Setting::key)))
        .all(conn)
        .await?;
    Ok(settings.map(|setting| {
        rows.iter()
            .find(|r| r.key == setting.key())
            .and_then(|r| setting.parse(&r.value).ok())
            .unwrap_or_else(|| setting.default_value())
    }))
}

/// Every known setting with its current value and when it was last changed.
pub async fn list(
    conn: &impl ConnectionTrait,
) -> AppResult<Vec<(Setting, i64, Option<chrono::DateTime<Utc>>)>> {
    let rows = system_settings::Entity::find().all(conn).await?;
    Ok(Setting::ALL
        .into_iter()
        .map(|setting| {
            let row = rows.iter().find(|r| r.key == setting.key());
            let value = row
                .and_then(|r| setting.parse(&r.value).ok())
                .unwrap_or_else(|| setting.default_value());
            (setting, value, row.map(|r| r.updated_at))
        })
        .collect())
}

/// Changes a setting after checking it; an unknown key or a bad value is BAD_USER_INPUT.
pub async fn update(
    conn: &impl ConnectionTrait,
    key: &str,
    raw: &str,
) -> AppResult<(Setting, i64)> {
    let setting = Setting::from_key(key)
        .ok_or_else(|| AppError::bad_input("key", format!("unknown setting {key:?}")))?;
    let value = setting.parse(raw)?;
    if setting == Setting::MinRechargePaise && value > get(conn, Setting::MaxRechargePaise).await? {
        return Err(AppError::bad_input(
            "value",
            "the minimum recharge cannot exceed the maximum",
        ));
    }
    if setting == Setting::MaxRechargePaise && value < get(conn, Setting::MinRechargePaise).await? {
        return Err(AppError::bad_input(
            "value",
            "the maximum recharge cannot be below the minimum",
        ));
    }
    upsert(conn, setting, value).await?;
    Ok((setting, value))
}

async fn upsert(conn: &impl ConnectionTrait, setting: Setting, value: i64) -> AppResult<()> {
    system_settings::Entity::insert(system_settings::ActiveModel {
        key: Set(setting.key().to_owned()),
        value: Set(value.to_string()),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(system_settings::Column::Key)
            .update_columns([
                system_settings::Column::Value,
                system_settings::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Stores the default of every setting not yet stored; leaves changed ones alone.
pub async fn store_defaults(conn: &impl ConnectionTrait) -> AppResult<usize> {
    let mut stored = 0;
    for setting in Setting::ALL {
        let exists = system_settings::Entity::find_by_id(setting.key().to_owned())
            .one(conn)
            .await?
            .is_some();
        if !exists {
            upsert(conn, setting, setting.default_value()).await?;
            stored += 1;
        }
    }
    Ok(stored)
}
