//! Scheduled work (the Celery beat replacement). tokio-cron-scheduler wakes every instance that
//! runs a worker at each cron slot; [`fire`] then makes the slot happen once across the fleet:
//! it inserts `(schedule, slot)` into `schedule_runs`, whose unique key lets exactly one
//! instance's insert through, and enqueues the schedule's job in the same transaction. The
//! losers insert nothing and skip. The job itself runs on whichever worker claims it, with the
//! queue's retries.
//!
//! A slot is the cron time itself (the latest occurrence at or before the moment the timer
//! fired), never "now", so instances whose clocks or timers differ by a little still agree on it.
//! A slot that passes while no instance runs is skipped, not caught up.

use anyhow::Context as _;
use chrono::{DateTime, Timelike as _, Utc};
use croner::{
    Cron,
    parser::{CronParser, Seconds},
};
use entity::schedule_runs;
use sea_orm::{ActiveValue::Set, EntityTrait as _, TransactionTrait as _};
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;

use super::{
    job::{Queued, Recurring},
    kinds, queue,
};
use crate::{AppState, config::Config, error::AppResult};

/// One recurring job: a name (the key of its runs), when, and the job to enqueue for a slot.
#[derive(Clone)]
pub struct Schedule {
    pub name: &'static str,
    /// The cron expression, with seconds, in UTC.
    pub expression: String,
    pub cron: Cron,
    /// The job for the slot (the slot lets a job know which period it covers).
    pub job: fn(DateTime<Utc>) -> serde_json::Result<Queued>,
}

impl Schedule {
    /// A schedule from a cron expression (six fields: seconds first). `Ok(None)` for `off`.
    pub fn new(
        name: &'static str,
        expression: &str,
        job: fn(DateTime<Utc>) -> serde_json::Result<Queued>,
    ) -> anyhow::Result<Option<Self>> {
        let expression = expression.trim();
        if expression.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .build()
            .parse(expression)
            .with_context(|| format!("schedule {name}: bad cron expression {expression:?}"))?;
        Ok(Some(Self {
            name,
            expression: expression.to_owned(),
            cron,
            job,
        }))
    }

    /// The slot a timer firing at `now` belongs to: the latest cron time at or before `now`.
    pub fn slot_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Cron times are whole seconds; croner keeps the fraction of a matching `now`.
        let now = now.with_nanosecond(0)?;
        self.cron.find_previous_occurrence(&now, true).ok()
    }
}

/// Every schedule: the recurring jobs the domains registered ([`kinds`]), each with its cron
/// expression from the configuration (`off` leaves it out).
pub fn schedules(config: &Config) -> anyhow::Result<Vec<Schedule>> {
    let mut all = Vec::new();
    for &Recurring {
        name,
        expression,
        job,
    } in kinds::registry().recurring()
    {
        all.extend(Schedule::new(name, expression(config), job)?);
    }
    Ok(all)
}

/// Claims `slot` of `schedule` for this instance and enqueues its job, in one transaction.
/// True when this call won the slot; false when another instance (or an earlier call) already
/// had it.
pub async fn fire(state: &AppState, schedule: &Schedule, slot: DateTime<Utc>) -> AppResult<bool> {
    let txn = state.db.begin().await?;
    let job = (schedule.job)(slot).map_err(crate::AppError::internal)?;
    let job_id = queue::enqueue_queued(&txn, job, Utc::now()).await?;
    let inserted = schedule_runs::Entity::insert(schedule_runs::ActiveModel {
        id: Set(crate::db::new_id()),
        schedule: Set(schedule.name.to_owned()),
        slot_at: Set(slot),
        job_id: Set(job_id),
        created_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([
        schedule_runs::Column::Schedule,
        schedule_runs::Column::SlotAt,
    ])
    .exec_without_returning(&txn)
    .await?;
    if !matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        txn.rollback().await?;
        return Ok(false);
    }
    txn.commit().await?;
    state.wake_worker();
    tracing::info!(schedule = schedule.name, %slot, %job_id, "scheduled job enqueued");
    Ok(true)
}

/// Starts the timers of every configured schedule; they stop when `shutdown` is cancelled.
/// Runs in every process that runs a worker (`serve` without `--no-worker`, and `worker`):
/// [`fire`] makes the extra timers harmless.
pub async fn start(state: AppState, shutdown: CancellationToken) -> anyhow::Result<()> {
    let schedules = schedules(&state.config)?;
    let mut scheduler = JobScheduler::new()
        .await
        .context("create the job scheduler")?;
    for schedule in schedules {
        let state = state.clone();
        let expression = schedule.expression.clone();
        let name = schedule.name;
        let job = Job::new_async(expression.as_str(), move |_id, _scheduler| {
            let state = state.clone();
            let schedule = schedule.clone();
            Box::pin(async move {
                let Some(slot) = schedule.slot_at(Utc::now()) else {
                    tracing::error!(schedule = schedule.name, "no slot for a firing timer");
                    return;
                };
                match fire(&state, &schedule, slot).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::debug!(schedule = schedule.name, %slot, "slot taken by another instance");
                    }
                    Err(err) => {
                        tracing::error!(schedule = schedule.name, %slot, error = ?err, "could not fire the schedule");
                    }
                }
            })
        })
        .with_context(|| format!("schedule {name}"))?;
        scheduler
            .add(job)
            .await
            .with_context(|| format!("add schedule {name}"))?;
        tracing::info!(schedule = name, cron = %expression, "schedule registered");
    }
    scheduler.start().await.context("start the job scheduler")?;
    tokio::spawn(async move {
        shutdown.cancelled().await;
        if let Err(err) = scheduler.shutdown().await {
            tracing::warn!(error = %err, "job scheduler did not shut down cleanly");
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(slot: DateTime<Utc>) -> serde_json::Result<Queued> {
        Queued::of(&crate::jobs::cleanup::CleanupExpiredSessions { slot })
    }

    #[test]
    fn the_slot_is_the_cron_time_not_the_moment_the_timer_fired() {
        let schedule = Schedule::new("t", "0 */15 * * * *", task)
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("schedule"));
        let late = DateTime::parse_from_rfc3339("2026-11-25T10:15:01.734Z")
            .map(|t| t.to_utc())
            .unwrap_or_default();
        let on_time = DateTime::parse_from_rfc3339("2026-11-25T10:15:00Z")
            .map(|t| t.to_utc())
            .unwrap_or_default();
        assert_eq!(schedule.slot_at(late), Some(on_time));
        assert_eq!(schedule.slot_at(on_time), Some(on_time));
    }

    #[test]
    fn off_disables_a_schedule_and_nonsense_is_refused() {
        assert!(matches!(Schedule::new("t", "off", task), Ok(None)));
        assert!(Schedule::new("t", "every tuesday", task).is_err());
    }
}
