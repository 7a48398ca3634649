//! Admin job control: `jobs`, `jobStats`, `retryJob`, `purgeJobs`.

use async_graphql::{Context, Enum, ID, Object, SimpleObject, connection::Connection};
use chrono::{DateTime, Utc};
use entity::jobs::{self, JobStatus as DbJobStatus};

use super::control;
use crate::{
    error::AppResult,
    graphql::{
        context::ContextExt as _,
        ids::parse_id,
        relay::{self, ConnectionFields, Cursor, Page},
    },
};

/// Where a job is in its life.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum JobStatus {
    /// Waiting to be due (`runAt`), or due and waiting for a worker.
    Pending,
    /// Claimed by a worker.
    Running,
    /// Done.
    Succeeded,
    /// Failed every attempt; kept for inspection and `retryJob`.
    Dead,
}

impl From<DbJobStatus> for JobStatus {
    fn from(status: DbJobStatus) -> Self {
        match status {
            DbJobStatus::Pending => Self::Pending,
            DbJobStatus::Running => Self::Running,
            DbJobStatus::Succeeded => Self::Succeeded,
            DbJobStatus::Dead => Self::Dead,
        }
    }
}

impl From<JobStatus> for DbJobStatus {
    fn from(status: JobStatus) -> Self {
        match status {
            JobStatus::Pending => Self::Pending,
            JobStatus::Running => Self::Running,
            JobStatus::Succeeded => Self::Succeeded,
            JobStatus::Dead => Self::Dead,
        }
    }
}

/// A background job. Its payload is not shown: it may carry short-lived secrets.
pub struct Job(pub jobs::Model);

#[Object]
impl Job {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The task, e.g. `send_verification_email`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    async fn status(&self) -> JobStatus {
        self.0.status.into()
    }

    /// Attempts made so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }

    /// Attempts allowed before the job is parked as DEAD.
    async fn max_attempts(&self) -> i32 {
        self.0.max_attempts
    }

    /// When the job is (or was) due.
    async fn run_at(&self) -> DateTime<Utc> {
        self.0.run_at
    }

    /// The error of the last failed attempt.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// When it succeeded or died.
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
}

/// How many jobs are in one status.
#[derive(SimpleObject)]
pub struct JobStatusCount {
    pub status: JobStatus,
    pub count: i64,
}

/// How many jobs there are of one kind.
#[derive(SimpleObject)]
pub struct JobKindCount {
    pub kind: String,
    pub count: i64,
}

/// The queue at a glance.
#[derive(SimpleObject)]
pub struct JobStats {
    /// Every status, zero included.
    pub by_status: Vec<JobStatusCount>,
    /// Every kind that has jobs.
    pub by_kind: Vec<JobKindCount>,
    /// Seconds since the longest-waiting due PENDING job became due (how far the workers are
    /// behind); null when nothing is waiting.
    pub oldest_pending_age_seconds: Option<i64>,
}

#[derive(Default)]
pub struct JobsQuery;

#[Object]
impl JobsQuery {
    /// Admin: background jobs, newest first, optionally of one status and kind.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn jobs(
        &self,
        ctx: &Context<'_>,
        status: Option<JobStatus>,
        kind: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Connection<Cursor, Job, ConnectionFields>> {
        ctx.admin()?;
        let page = Page::<Cursor>::new(first, after)?;
        let (rows, total) = control::list(
            &ctx.state().db,
            status.map(Into::into),
            kind.as_deref(),
            &page,
        )
        .await?;
        Ok(relay::connection(
            &page,
            rows,
            total,
            |job| Cursor {
                at: job.created_at,
                id: job.id,
            },
            Job,
        ))
    }

    /// Admin: job counts by status and kind, and how far behind the workers are.
    async fn job_stats(&self, ctx: &Context<'_>) -> AppResult<JobStats> {
        ctx.admin()?;
        let stats = control::stats(&ctx.state().db, Utc::now()).await?;
        Ok(JobStats {
            by_status: stats
                .by_status
                .into_iter()
                .map(|(status, count)| JobStatusCount {
                    status: status.into(),
                    count,
                })
                .collect(),
            by_kind: stats
                .by_kind
                .into_iter()
                .map(|(kind, count)| JobKindCount { kind, count })
                .collect(),
            oldest_pending_age_seconds: stats.oldest_pending_age_secs,
        })
    }
}

#[derive(Default)]
pub struct JobsMutation;

#[Object]
impl JobsMutation {
    /// Admin: puts a job that did not succeed (typically DEAD) back in the queue, due now, with
    /// fresh attempts.
    async fn retry_job(&self, ctx: &Context<'_>, id: ID) -> AppResult<Job> {
        ctx.admin()?;
        let id = parse_id("id", &id)?;
        let job = control::retry(&ctx.state().db, id).await?;
        ctx.state().wake_worker();
        Ok(Job(job))
    }

    /// Admin: deletes every SUCCEEDED or every DEAD job; returns how many. Other statuses are
    /// refused (that would lose queued work).
    async fn purge_jobs(&self, ctx: &Context<'_>, status: JobStatus) -> AppResult<i64> {
        ctx.admin()?;
        let purged = control::purge(&ctx.state().db, status.into()).await?;
        Ok(i64::try_from(purged).unwrap_or(i64::MAX))
    }
}
