//! The worker: claims due jobs one at a time and runs them. [`run_once`] is public so tests and
//! tools can drain the queue deterministically, with no sleeps.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::jobs::{self, JobStatus};
use tokio_util::sync::CancellationToken;

use super::{kinds, queue};
use crate::{AppState, error::AppResult};

/// What happened to the job a call ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub job_id: uuid::Uuid,
    pub kind: String,
    pub status: JobStatus,
}

/// Claims and runs one job due at `now`. `None` when nothing is due.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> AppResult<Option<Outcome>> {
    let Some(job) = queue::claim_next(&state.db, now).await? else {
        return Ok(None);
    };
    // Notifications the job creates are published once it is done (after its commits).
    let result = crate::realtime::live::after(
        state,
        kinds::registry().run(state.clone(), &job.kind, &job.payload),
    )
    .await;
    let status = match result {
        Ok(()) => {
            queue::mark_succeeded(&state.db, &job).await?;
            JobStatus::Succeeded
        }
        Err(err) => {
            let status = queue::mark_failed(&state.db, &job, &format!("{err:#}"), now).await?;
            log_failure(&job, &err, status);
            status
        }
    };
    Ok(Some(Outcome {
        job_id: job.id,
        kind: job.kind,
        status,
    }))
}

/// Runs every job due at `now` until none is left; returns what ran, in order.
pub async fn drain(state: &AppState, now: DateTime<Utc>) -> AppResult<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    while let Some(outcome) = run_once(state, now).await? {
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// The long-running worker loop, until `shutdown` is cancelled. A job in progress is finished
/// before the loop stops.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    tracing::info!("job worker started");
    let poll = state.config.worker_poll;
    let mut errors_in_a_row = 0u32;
    while !shutdown.is_cancelled() {
        match run_once(&state, Utc::now()).await {
            Ok(Some(_)) => {
                errors_in_a_row = 0;
                continue;
            }
            Ok(None) => errors_in_a_row = 0,
            Err(err) => {
                errors_in_a_row += 1;
                tracing::error!(error = ?err, "job worker could not claim or settle a job");
            }
        }
        let wait = if errors_in_a_row == 0 {
            poll
        } else {
            (poll * errors_in_a_row).min(Duration::from_secs(30))
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = state.jobs_wakeup.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
    tracing::info!("job worker stopped");
}

fn log_failure(job: &jobs::Model, err: &anyhow::Error, status: JobStatus) {
    if status == JobStatus::Dead {
        tracing::error!(job_id = %job.id, kind = %job.kind, attempts = job.attempts, error = ?err, "job is dead");
    } else {
        tracing::warn!(job_id = %job.id, kind = %job.kind, attempts = job.attempts, error = ?err, "job failed; will retry");
    }
}
