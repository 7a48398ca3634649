//! Recording a weighing with the photo of the scale: the photo is stored before the weighing's
//! transaction commits and removed again when it does not, so a refused or failed weighing
//! leaves no file behind.

use chrono::{DateTime, Utc};
use entity::pickups::{self, PickupStatus};
use sea_orm::{DatabaseConnection, TransactionTrait as _};
use uuid::Uuid;

use super::{Access, actor_of, settlement::WeighingLine, transitions, visible};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    storage::{Storage, sniff::FileKind},
};

/// The collector weighs `pickup_id` (ARRIVED → WEIGHED) at the locked rates, with the photo of
/// the scale when one is given. `read_photo` is called only once the caller is known to be the
/// pickup's collector at the door, so nobody else's upload is read or stored.
pub async fn weigh(
    db: &DatabaseConnection,
    storage: &Storage,
    viewer: &Viewer,
    pickup_id: Uuid,
    lines: &[WeighingLine],
    read_photo: Option<impl FnOnce() -> AppResult<(Vec<u8>, FileKind)>>,
    now: DateTime<Utc>,
) -> AppResult<pickups::Model> {
    let txn = db.begin().await?;
    let (pickup, access) = visible(&txn, viewer, pickup_id).await?;
    let photo_key = match read_photo {
        Some(read) if access == Access::Vendor && pickup.status == PickupStatus::Arrived => {
            let (bytes, kind) = read()?;
            let key = format!(
                "pickups/{}/scale-{}.{}",
                pickup.id,
                crate::db::new_id(),
                kind.extension()
            );
            storage
                .put(&key, &bytes)
                .await
                .map_err(AppError::internal)?;
            Some(key)
        }
        _ => None,
    };
    let weighed = async {
        let weighed = transitions::record_weighing(
            &txn,
            &pickup,
            lines,
            photo_key.clone(),
            actor_of(access),
            viewer.user_id,
            now,
        )
        .await?;
        txn.commit().await?;
        AppResult::Ok(weighed)
    }
    .await;
    if weighed.is_err()
        && let Some(key) = &photo_key
        && let Err(err) = storage.delete(key).await
    {
        tracing::warn!(error = %err, %key, "could not remove the photo of a weighing that failed");
    }
    weighed
}
