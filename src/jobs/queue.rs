//! Enqueueing, claiming and settling jobs. Every function takes the caller's connection or
//! transaction.

use chrono::{DateTime, Duration, Utc};
use entity::jobs::{self, JobStatus};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, Statement, sea_query::Expr,
};
use uuid::Uuid;

use super::job::{Job, Queued};
use crate::error::{AppError, AppResult};

pub const DEFAULT_MAX_ATTEMPTS: i32 = 5;
/// How long a claimed job may run before another worker may take it over (its worker is
/// presumed dead).
pub const LEASE: Duration = Duration::minutes(5);
const BACKOFF_BASE_SECS: i64 = 10;
const BACKOFF_MAX_SECS: i64 = 3600;

/// Adds a job, due now, to the queue, inside the caller's transaction.
pub async fn enqueue(conn: &impl ConnectionTrait, job: &impl Job) -> AppResult<Uuid> {
    enqueue_at(conn, job, Utc::now()).await
}

/// Adds the jobs, all due now, with multi-row inserts inside the caller's transaction.
pub async fn enqueue_all<J: Job>(conn: &impl ConnectionTrait, jobs: &[J]) -> AppResult<Vec<Uuid>> {
    let now = Utc::now();
    let mut ids = Vec::with_capacity(jobs.len());
    let mut rows = Vec::with_capacity(jobs.len());
    for job in jobs {
        let queued = Queued::of(job).map_err(AppError::internal)?;
        let id = crate::db::new_id();
        ids.push(id);
        rows.push(pending_row(id, queued, now, now));
    }
    crate::db::insert_chunked::<jobs::Entity>(conn, rows).await?;
    Ok(ids)
}

/// Adds a job due at `run_at`.
pub async fn enqueue_at(
    conn: &impl ConnectionTrait,
    job: &impl Job,
    run_at: DateTime<Utc>,
) -> AppResult<Uuid> {
    let queued = Queued::of(job).map_err(AppError::internal)?;
    enqueue_queued(conn, queued, run_at).await
}

/// Adds a job already turned into its kind and payload (a recurring job's).
pub async fn enqueue_queued(
    conn: &impl ConnectionTrait,
    queued: Queued,
    run_at: DateTime<Utc>,
) -> AppResult<Uuid> {
    let id = crate::db::new_id();
    jobs::Entity::insert(pending_row(id, queued, run_at, Utc::now()))
        .exec_without_returning(conn)
        .await?;
    Ok(id)
}

/// A new PENDING job row, due at `run_at`.
fn pending_row(
    id: Uuid,
    Queued { kind, payload }: Queued,
    run_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> jobs::ActiveModel {
    jobs::ActiveModel {
        id: Set(id),
        kind: Set(kind.to_owned()),
        payload: Set(payload),
        status: Set(JobStatus::Pending),
        attempts: Set(0),
        max_attempts: Set(DEFAULT_MAX_ATTEMPTS),
        run_at: Set(run_at),
        locked_until: Set(None),
        lease_token: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
    }
}

/// Claims the next job due at `now` (or whose lease ran out), marking it RUNNING, counting the
/// attempt and writing a fresh lease token: the returned model carries it, and only that model
/// can settle the job ([`mark_succeeded`], [`mark_failed`]). On PostgreSQL, rows locked by other
/// workers are skipped rather than waited for; SQLite has a single writer, so the plain update
/// is already exclusive.
pub async fn claim_next(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> AppResult<Option<jobs::Model>> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "UPDATE jobs SET status = 'RUNNING', attempts = attempts + 1, locked_until = $1, updated_at = $2, lease_token = $3 \
             WHERE id = (SELECT id FROM jobs \
                 WHERE (status = 'PENDING' AND run_at <= $2) OR (status = 'RUNNING' AND locked_until < $2) \
                 ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING *"
        }
        _ => {
            "UPDATE jobs SET status = 'RUNNING', attempts = attempts + 1, locked_until = ?1, updated_at = ?2, lease_token = ?3 \
             WHERE id = (SELECT id FROM jobs \
                 WHERE (status = 'PENDING' AND run_at <= ?2) OR (status = 'RUNNING' AND locked_until < ?2) \
                 ORDER BY run_at LIMIT 1) \
             RETURNING *"
        }
    };
    let token = Uuid::new_v4();
    let stmt = Statement::from_sql_and_values(
        backend,
        sql,
        [(now + LEASE).into(), now.into(), token.into()],
    );
    Ok(jobs::Entity::find().from_raw_sql(stmt).one(conn).await?)
}

/// Marks a claimed job done. CONFLICT, changing nothing, when `job`'s lease is no longer the
/// job's: it ran out and another worker re-claimed the job, or an admin retried it.
pub async fn mark_succeeded(conn: &impl ConnectionTrait, job: &jobs::Model) -> AppResult<()> {
    let now = Utc::now();
    let result = jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, Expr::value(JobStatus::Succeeded))
        .col_expr(
            jobs::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(jobs::Column::FinishedAt, Expr::value(now))
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .col_expr(jobs::Column::LastError, Expr::value(Option::<String>::None))
        // Payloads may carry short-lived secrets (codes, tokens); a finished job keeps none.
        .col_expr(jobs::Column::Payload, Expr::value(serde_json::json!({})))
        .col_expr(jobs::Column::LeaseToken, Expr::value(Option::<Uuid>::None))
        .filter(holds_lease(job)?)
        .exec(conn)
        .await?;
    fenced(job, result.rows_affected)
}

/// Only the row still RUNNING under `job`'s lease token; CONFLICT for a model that was never
/// claimed (it holds no lease).
fn holds_lease(job: &jobs::Model) -> AppResult<Condition> {
    let token = job.lease_token.ok_or_else(|| lost_lease(job))?;
    Ok(Condition::all()
        .add(jobs::Column::Id.eq(job.id))
        .add(jobs::Column::Status.eq(JobStatus::Running))
        .add(jobs::Column::LeaseToken.eq(token)))
}

fn lost_lease(job: &jobs::Model) -> AppError {
    AppError::Conflict(format!(
        "job {} is no longer leased to this worker; its result was not recorded",
        job.id
    ))
}

fn fenced(job: &jobs::Model, rows_affected: u64) -> AppResult<()> {
    if rows_affected == 1 {
        Ok(())
    } else {
        Err(lost_lease(job))
    }
}

/// Records a failed attempt: due again after an exponential backoff, or DEAD once the job has
/// used all its attempts. Returns the new status. CONFLICT, changing nothing, when `job`'s
/// lease is no longer the job's (as for [`mark_succeeded`]).
pub async fn mark_failed(
    conn: &impl ConnectionTrait,
    job: &jobs::Model,
    error: &str,
    now: DateTime<Utc>,
) -> AppResult<JobStatus> {
    let dead = job.attempts >= job.max_attempts;
    let status = if dead {
        JobStatus::Dead
    } else {
        JobStatus::Pending
    };
    let mut update = jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, Expr::value(status))
        .col_expr(
            jobs::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(jobs::Column::LeaseToken, Expr::value(Option::<Uuid>::None))
        .col_expr(jobs::Column::LastError, Expr::value(truncate(error, 2000)))
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now));
    update = if dead {
        update.col_expr(jobs::Column::FinishedAt, Expr::value(now))
    } else {
        update.col_expr(
            jobs::Column::RunAt,
            Expr::value(now + backoff(job.attempts)),
        )
    };
    let result = update.filter(holds_lease(job)?).exec(conn).await?;
    fenced(job, result.rows_affected)?;
    Ok(status)
}

/// Puts a DEAD (or stuck) job back in the queue, due now, with a fresh set of attempts, and
/// takes the lease from any worker that still thinks it runs it. Returns false when there is no
/// such job, it already succeeded, or it is RUNNING with its lease not yet expired (its worker
/// is still on it: a second copy could run it twice). One conditional update, so a worker
/// claiming the job meanwhile cannot slip between the check and the reset.
pub async fn retry(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<bool> {
    let now = Utc::now();
    let result = jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, Expr::value(JobStatus::Pending))
        .col_expr(jobs::Column::Attempts, Expr::value(0))
        .col_expr(jobs::Column::RunAt, Expr::value(now))
        .col_expr(
            jobs::Column::FinishedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            jobs::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(jobs::Column::LeaseToken, Expr::value(Option::<Uuid>::None))
        .filter(jobs::Column::Id.eq(id))
        .filter(jobs::Column::Status.ne(JobStatus::Succeeded))
        .filter(
            Condition::any()
                .add(jobs::Column::Status.ne(JobStatus::Running))
                .add(jobs::Column::LockedUntil.is_null())
                .add(jobs::Column::LockedUntil.lte(now)),
        )
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The wait before attempt `attempts + 1`: 10 s, 20 s, 40 s, … capped at one hour.
pub fn backoff(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
    Duration::seconds(std::cmp::Ord::min(
        BACKOFF_BASE_SECS.saturating_mul(1 << exponent),
        BACKOFF_MAX_SECS,
    ))
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::seconds(10));
        assert_eq!(backoff(2), Duration::seconds(20));
        assert_eq!(backoff(4), Duration::seconds(80));
        assert_eq!(backoff(30), Duration::seconds(3600));
    }
}
