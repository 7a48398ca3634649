//! Admin steering of the job queue (retry, purge), shared by GraphQL and the operators'
//! console; each writes its audit row in the transaction of the change.

use entity::jobs::{self, JobStatus};
use sea_orm::{EntityTrait as _, TransactionTrait as _};
use serde_json::json;
use uuid::Uuid;

use super::control::{self, status_name};
use crate::{
    AppState,
    audit::{self, Entry},
    auth::Viewer,
    error::{AppError, AppResult},
};

/// Admin: puts a job that did not succeed back in the queue, due now, with fresh attempts.
pub async fn retry_job(state: &AppState, actor: Viewer, id: Uuid) -> AppResult<jobs::Model> {
    let txn = state.db.begin().await?;
    let before = jobs::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("job"))?;
    let job = control::retry(&txn, id).await?;
    audit::record(
        &txn,
        Entry::new(actor.user_id, "job.retry", "job", id).change(
            json!({ "status": status_name(before.status), "attempts": before.attempts, "kind": before.kind }),
            json!({ "status": status_name(job.status), "attempts": job.attempts }),
        ),
    )
    .await?;
    txn.commit().await?;
    state.wake_worker();
    Ok(job)
}

/// Admin: deletes every SUCCEEDED or every DEAD job; returns how many.
pub async fn purge_jobs(state: &AppState, actor: Viewer, status: JobStatus) -> AppResult<u64> {
    let txn = state.db.begin().await?;
    let purged = control::purge(&txn, status).await?;
    audit::record(
        &txn,
        Entry::new(actor.user_id, "job.purge", "job", status_name(status)).change(
            json!({ "status": status_name(status) }),
            json!({ "purged": purged }),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(purged)
}
