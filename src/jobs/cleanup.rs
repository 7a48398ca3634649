//! `cleanup_expired_sessions`: deletes what can no longer be used and what has been kept long
//! enough. Expired refresh tokens, OTP challenges and emailed tokens go at once (they are
//! refused anyway). Revoked refresh tokens are kept for the retention period first: presenting a
//! revoked (rotated) token is how a stolen one is detected, and that must keep working for a
//! while after the rotation. Used OTP challenges and emailed tokens, finished jobs (SUCCEEDED
//! or DEAD, kept for inspection and retry) and schedule runs go after the retention period.

use chrono::{DateTime, Duration, Utc};
use entity::{
    email_tokens,
    jobs::{self, JobStatus},
    otp_challenges, refresh_tokens, schedule_runs,
};
use sea_orm::{ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _, QueryFilter as _};

use serde::{Deserialize, Serialize};

use super::job::{Job, Queued, Recurring, Registry};
use crate::{AppState, error::AppResult};

/// Deletes expired sessions and tokens, and old finished jobs (recurring).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanupExpiredSessions {
    /// The slot only names the firing; what is expired is judged when the job runs.
    pub slot: DateTime<Utc>,
}

impl Job for CleanupExpiredSessions {
    const KIND: &'static str = "cleanup_expired_sessions";
}

pub fn register(registry: &mut Registry<AppState>) {
    registry
        .handle(|state: AppState, _: CleanupExpiredSessions| async move {
            let retention = Duration::days(state.config.retention_days);
            let deleted = cleanup_expired(&state.db, Utc::now(), retention)
                .await
                .map_err(|e| anyhow::anyhow!("cleanup: {e:?}"))?;
            tracing::info!(?deleted, "expired sessions and old jobs cleaned up");
            Ok(())
        })
        .every(Recurring {
            name: CleanupExpiredSessions::KIND,
            expression: |config| &config.schedule_cleanup,
            job: |slot| Queued::of(&CleanupExpiredSessions { slot }),
        });
}

/// How many rows of each kind a cleanup deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanupReport {
    pub refresh_tokens: u64,
    pub otp_challenges: u64,
    pub email_tokens: u64,
    pub jobs: u64,
    pub schedule_runs: u64,
}

/// Deletes expired and stale rows as of `now`, keeping finished things for `retention`.
pub async fn cleanup_expired(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    retention: Duration,
) -> AppResult<CleanupReport> {
    let kept_since = now - retention;
    let refresh_tokens = refresh_tokens::Entity::delete_many()
        .filter(
            Condition::any()
                .add(refresh_tokens::Column::ExpiresAt.lt(now))
                .add(refresh_tokens::Column::RevokedAt.lt(kept_since)),
        )
        .exec(conn)
        .await?
        .rows_affected;
    let otp_challenges = otp_challenges::Entity::delete_many()
        .filter(
            Condition::any()
                .add(otp_challenges::Column::ExpiresAt.lt(now))
                .add(otp_challenges::Column::ConsumedAt.lt(kept_since)),
        )
        .exec(conn)
        .await?
        .rows_affected;
    let email_tokens = email_tokens::Entity::delete_many()
        .filter(
            Condition::any()
                .add(email_tokens::Column::ExpiresAt.lt(now))
                .add(email_tokens::Column::UsedAt.lt(kept_since)),
        )
        .exec(conn)
        .await?
        .rows_affected;
    let jobs = jobs::Entity::delete_many()
        .filter(jobs::Column::Status.is_in([JobStatus::Succeeded, JobStatus::Dead]))
        .filter(jobs::Column::FinishedAt.lt(kept_since))
        .exec(conn)
        .await?
        .rows_affected;
    let schedule_runs = schedule_runs::Entity::delete_many()
        .filter(schedule_runs::Column::SlotAt.lt(kept_since))
        .exec(conn)
        .await?
        .rows_affected;
    Ok(CleanupReport {
        refresh_tokens,
        otp_challenges,
        email_tokens,
        jobs,
        schedule_runs,
    })
}
