//! Job control (the Flower replacement): listing, counting, retrying and purging jobs, for the
//! admin GraphQL fields and the `kabaadwala jobs` command. Payloads are never shown: they may
//! carry short-lived secrets (codes, tokens).

use chrono::{DateTime, Utc};
use entity::jobs::{self, JobStatus};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _, FromQueryResult,
    QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use uuid::Uuid;

use super::queue;
use crate::{
    error::{AppError, AppResult},
    paging::{Cursor, Page},
};

/// Jobs newest first, optionally of one status and kind; with the total count of the filter.
pub async fn list(
    conn: &impl ConnectionTrait,
    status: Option<JobStatus>,
    kind: Option<&str>,
    page: &Page<Cursor>,
) -> AppResult<(Vec<jobs::Model>, i64)> {
    let mut filter = Condition::all();
    if let Some(status) = status {
        filter = filter.add(jobs::Column::Status.eq(status));
    }
    if let Some(kind) = kind {
        filter = filter.add(jobs::Column::Kind.eq(kind));
    }
    crate::paging::newest_first::<jobs::Entity>(
        conn,
        filter,
        jobs::Column::CreatedAt,
        jobs::Column::Id,
        page,
    )
    .await
}

/// The queue at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobStats {
    /// Every status, with zero where there are none.
    pub by_status: Vec<(JobStatus, i64)>,
    /// Kinds that have jobs, by name.
    pub by_kind: Vec<(String, i64)>,
    /// Seconds since the longest-waiting due PENDING job became due; `None` when none is due.
    pub oldest_pending_age_secs: Option<i64>,
}

#[derive(FromQueryResult)]
struct StatusCount {
    status: JobStatus,
    count: i64,
}

#[derive(FromQueryResult)]
struct KindCount {
    kind: String,
    count: i64,
}

#[derive(FromQueryResult)]
struct Oldest {
    run_at: Option<DateTime<Utc>>,
}

/// How many jobs there are in each status (every status, zero included).
pub async fn count_by_status(conn: &impl ConnectionTrait) -> AppResult<Vec<(JobStatus, i64)>> {
    let rows = jobs::Entity::find()
        .select_only()
        .column(jobs::Column::Status)
        .column_as(jobs::Column::Id.count(), "count")
        .group_by(jobs::Column::Status)
        .into_model::<StatusCount>()
        .all(conn)
        .await?;
    Ok(ALL_STATUSES
        .iter()
        .map(|status| {
            let count = rows
                .iter()
                .find(|row| row.status == *status)
                .map_or(0, |row| row.count);
            (*status, count)
        })
        .collect())
}

const ALL_STATUSES: [JobStatus; 4] = [
    JobStatus::Pending,
    JobStatus::Running,
    JobStatus::Succeeded,
    JobStatus::Dead,
];

pub async fn stats(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<JobStats> {
    let by_status = count_by_status(conn).await?;
    let by_kind = jobs::Entity::find()
        .select_only()
        .column(jobs::Column::Kind)
        .column_as(jobs::Column::Id.count(), "count")
        .group_by(jobs::Column::Kind)
        .order_by_asc(jobs::Column::Kind)
        .into_model::<KindCount>()
        .all(conn)
        .await?
        .into_iter()
        .map(|row| (row.kind, row.count))
        .collect();
    let oldest = jobs::Entity::find()
        .select_only()
        .column_as(jobs::Column::RunAt.min(), "run_at")
        .filter(jobs::Column::Status.eq(JobStatus::Pending))
        .filter(jobs::Column::RunAt.lte(now))
        .into_model::<Oldest>()
        .one(conn)
        .await?
        .and_then(|row| row.run_at);
    Ok(JobStats {
        by_status,
        by_kind,
        oldest_pending_age_secs: oldest.map(|at| (now - at).num_seconds().max(0)),
    })
}

/// Puts a job that did not succeed back in the queue, due now, with fresh attempts. A job a
/// worker is running (its lease not yet expired) is CONFLICT; one that succeeded is
/// INVALID_TRANSITION.
pub async fn retry(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<jobs::Model> {
    // The reset is one conditional update; the reads around it only explain its answer.
    let reset = queue::retry(conn, id).await?;
    let Some(job) = jobs::Entity::find_by_id(id).one(conn).await? else {
        return Err(AppError::not_found("job"));
    };
    if reset {
        return Ok(job);
    }
    if job.status == JobStatus::Running {
        // Its worker is still on it; a second copy could run it twice.
        return Err(AppError::Conflict(
            "the job is running; retry it once it has failed or its lease has expired".into(),
        ));
    }
    Err(AppError::InvalidTransition(
        "a job that succeeded cannot be retried".into(),
    ))
}

/// Deletes every job in `status`, which must be a finished one (SUCCEEDED or DEAD): deleting
/// queued or running work would lose it. Returns how many were deleted.
pub async fn purge(conn: &impl ConnectionTrait, status: JobStatus) -> AppResult<u64> {
    if !matches!(status, JobStatus::Succeeded | JobStatus::Dead) {
        return Err(AppError::bad_input(
            "status",
            "only SUCCEEDED or DEAD jobs can be purged",
        ));
    }
    Ok(jobs::Entity::delete_many()
        .filter(jobs::Column::Status.eq(status))
        .exec(conn)
        .await?
        .rows_affected)
}

/// The status as the API spells it (`PENDING`, …).
pub fn status_name(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Pending => "PENDING",
        JobStatus::Running => "RUNNING",
        JobStatus::Succeeded => "SUCCEEDED",
        JobStatus::Dead => "DEAD",
    }
}
