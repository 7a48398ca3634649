//! The admin change of a system setting, shared by GraphQL and the operators' console; the
//! change and its audit row commit together.

use sea_orm::TransactionTrait as _;
use serde_json::json;

use super::service::{self, Setting};
use crate::{
    AppState,
    audit::{self, Entry},
    auth::Viewer,
    error::{AppError, AppResult},
};

/// Admin: changes a setting. Unknown keys and out-of-range values are BAD_USER_INPUT.
pub async fn update_setting(
    state: &AppState,
    actor: Viewer,
    key: &str,
    value: &str,
) -> AppResult<(Setting, i64)> {
    let setting = Setting::from_key(key)
        .ok_or_else(|| AppError::bad_input("key", format!("unknown setting {key:?}")))?;
    let txn = state.db.begin().await?;
    let before = service::get(&txn, setting).await?;
    let (setting, after) = service::update(&txn, key, value).await?;
    audit::record(
        &txn,
        Entry::new(actor.user_id, "setting.update", "setting", setting.key())
            .change(json!({ "value": before }), json!({ "value": after })),
    )
    .await?;
    txn.commit().await?;
    Ok((setting, after))
}
