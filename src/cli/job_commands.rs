//! `kabaadwala jobs …`: the queue from the command line (list, stats, retry, purge).

use clap::Subcommand;

use crate::{AppState, config::Config, jobs};

#[derive(Subcommand)]
pub(super) enum JobsAction {
    /// List jobs, newest first.
    List {
        /// PENDING, RUNNING, SUCCEEDED or DEAD.
        #[arg(long)]
        status: Option<String>,
        /// Only jobs of this kind (e.g. send_otp_email).
        #[arg(long)]
        kind: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: i32,
    },
    /// Counts by status and kind, and how far behind the workers are.
    Stats,
    /// Put a job that did not succeed back in the queue, due now.
    Retry { id: uuid::Uuid },
    /// Delete every SUCCEEDED or every DEAD job.
    Purge {
        #[arg(long)]
        status: String,
    },
}

pub(super) async fn jobs_command(config: Config, action: JobsAction) -> anyhow::Result<()> {
    let state = AppState::build(config).await?;
    let db = &state.db;
    let app_err = |e: crate::AppError| anyhow::anyhow!("{e}");
    match action {
        JobsAction::List {
            status,
            kind,
            limit,
        } => {
            let status = status.as_deref().map(parse_job_status).transpose()?;
            let limit = u64::try_from(limit)
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| anyhow::anyhow!("--limit must be at least 1"))?;
            let page = crate::paging::Page {
                limit: limit.min(crate::paging::MAX_PAGE_SIZE),
                after: None,
            };
            let (rows, total) = jobs::control::list(db, status, kind.as_deref(), &page)
                .await
                .map_err(app_err)?;
            println!(
                "{:<36}  {:<9}  {:>8}  {:<20}  {:<28}  last error",
                "id", "status", "attempts", "run at", "kind"
            );
            for job in rows
                .iter()
                .take(usize::try_from(page.limit).unwrap_or(usize::MAX))
            {
                println!(
                    "{:<36}  {:<9}  {:>4}/{:<3}  {:<20}  {:<28}  {}",
                    job.id,
                    jobs::control::status_name(job.status),
                    job.attempts,
                    job.max_attempts,
                    job.run_at.format("%Y-%m-%d %H:%M:%S"),
                    job.kind,
                    job.last_error
                        .as_deref()
                        .unwrap_or("")
                        .lines()
                        .next()
                        .unwrap_or(""),
                );
            }
            println!(
                "({} shown of {total})",
                rows.len()
                    .min(usize::try_from(page.limit).unwrap_or(usize::MAX))
            );
        }
        JobsAction::Stats => {
            let stats = jobs::control::stats(db, chrono::Utc::now())
                .await
                .map_err(app_err)?;
            for (status, count) in stats.by_status {
                println!("{:<10} {count}", jobs::control::status_name(status));
            }
            for (kind, count) in stats.by_kind {
                println!("  {kind:<30} {count}");
            }
            match stats.oldest_pending_age_secs {
                Some(secs) => println!("oldest due pending job waited {secs} s"),
                None => println!("no due pending jobs"),
            }
        }
        JobsAction::Retry { id } => {
            let job = jobs::control::retry(db, id).await.map_err(app_err)?;
            println!("job {} ({}) is pending again", job.id, job.kind);
        }
        JobsAction::Purge { status } => {
            let status = parse_job_status(&status)?;
            let purged = jobs::control::purge(db, status).await.map_err(app_err)?;
            println!(
                "purged {purged} {} jobs",
                jobs::control::status_name(status)
            );
        }
    }
    Ok(())
}

fn parse_job_status(name: &str) -> anyhow::Result<entity::jobs::JobStatus> {
    use entity::jobs::JobStatus;
    match name.to_ascii_uppercase().as_str() {
        "PENDING" => Ok(JobStatus::Pending),
        "RUNNING" => Ok(JobStatus::Running),
        "SUCCEEDED" => Ok(JobStatus::Succeeded),
        "DEAD" => Ok(JobStatus::Dead),
        other => {
            anyhow::bail!("unknown job status {other:?}: use PENDING, RUNNING, SUCCEEDED or DEAD")
        }
    }
}
