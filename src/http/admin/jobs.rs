//! Jobs (the Flower replacement): counts by status and kind, the oldest due job's age, lists
//! with the last error, retry, purge; the schedules with their last runs.

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
};
use chrono::Utc;
use entity::{
    jobs::{self, JobStatus},
    schedule_runs,
};
use maud::html;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _};
use serde::Deserialize;

use super::{
    session::Admin,
    view::FlashFields,
    view::{self, Flash, PageResult},
};
use crate::{
    error::AppError,
    http::HttpState,
    jobs::{
        admin as job_admin,
        control::{self, status_name},
        schedule,
    },
};

const STATUSES: [JobStatus; 4] = [
    JobStatus::Pending,
    JobStatus::Running,
    JobStatus::Succeeded,
    JobStatus::Dead,
];

fn parse_status(text: &str) -> Option<JobStatus> {
    STATUSES.into_iter().find(|s| status_name(*s) == text)
}

/// Seconds as "3 h 05 min", "42 s".
pub fn age(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {:02} s", s / 60, s % 60),
        s => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    kind: String,
    after: Option<String>,
    #[serde(flatten)]
    flash: FlashFields,
}

/// `GET /admin/jobs`.
pub async fn list(
    admin: Admin,
    State(http): State<HttpState>,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let db = &http.app.db;
    let stats = control::stats(db, Utc::now()).await?;
    let page = view::list_page(query.after.as_deref())?;
    let kind = Some(query.kind.trim()).filter(|k| !k.is_empty());
    let (rows, total) = control::list(db, parse_status(&query.status), kind, &page).await?;
    let (rows, next) = view::split_page(rows, page.limit, |j| view::at_id(j.created_at, j.id));
    let schedules = schedule::schedules(&http.app.config).map_err(AppError::internal)?;
    let mut last_runs = Vec::new();
    for s in &schedules {
        let last = schedule_runs::Entity::find()
            .filter(schedule_runs::Column::Schedule.eq(s.name))
            .order_by_desc(schedule_runs::Column::SlotAt)
            .one(db)
            .await?;
        let job = match &last {
            Some(run) => jobs::Entity::find_by_id(run.job_id).one(db).await?,
            None => None,
        };
        last_runs.push((s.name, s.expression.clone(), last, job));
    }
    let statuses: Vec<(&str, &str)> = STATUSES
        .iter()
        .map(|s| (status_name(*s), status_name(*s)))
        .collect();
    let body = html! {
        div.cards {
            @for (status, count) in &stats.by_status {
                a.card href={"/admin/jobs?status=" (status_name(*status))} { small { (status_name(*status)) } b { (count) } }
            }
            div.card { small { "Oldest due job waiting" } b { (stats.oldest_pending_age_secs.map(age).unwrap_or_else(|| "none".into())) } }
        }
        h2 { "By kind" }
        p {
            @for (kind, count) in &stats.by_kind {
                a href={"/admin/jobs?kind=" (kind)} { code { (kind) } } " " (count) " · "
            }
        }
        h2 { "Jobs" }
        form.filters method="get" action="/admin/jobs" {
            label { "Status" (view::select("status", "Any status", &statuses, Some(&query.status))) }
            label { "Kind" input type="text" name="kind" value=(query.kind); }
            button type="submit" { "Filter" }
        }
        div.table-wrap { table {
            thead { tr { th { "Kind" } th { "Status" } th.num { "Attempts" } th { "Due" } th { "Last error" } th {} } }
            tbody {
                @for j in &rows {
                    tr {
                        td { a href={"/admin/jobs/" (j.id)} { code { (j.kind) } } }
                        td { (view::badge(status_name(j.status))) }
                        td.num { (j.attempts) "/" (j.max_attempts) }
                        td { (view::when(j.run_at)) }
                        td { (j.last_error.as_deref().unwrap_or("")) }
                        td {
                            @if matches!(j.status, JobStatus::Dead | JobStatus::Pending) && j.attempts > 0 {
                                form method="post" action={"/admin/jobs/" (j.id) "/retry"} {
                                    (admin.csrf_field())
                                    button type="submit" { "Retry" }
                                }
                            }
                        }
                    }
                }
                @if rows.is_empty() { tr { td colspan="6" .muted { "No jobs match." } } }
            }
        } }
        (view::pager("/admin/jobs", &[("status", query.status.clone()), ("kind", query.kind.clone())], next, total))
        h2 { "Purge" }
        form.action method="post" action="/admin/jobs/purge" {
            (admin.csrf_field())
            label { "Delete every job that is" (view::select("status", "choose…", &[("SUCCEEDED", "SUCCEEDED"), ("DEAD", "DEAD")], None)) }
            button.danger type="submit" { "Purge" }
        }
        h2 { "Schedules" }
        div.table-wrap { table {
            thead { tr { th { "Schedule" } th { "Cron (UTC)" } th { "Last slot" } th { "Its job" } } }
            tbody {
                @for (name, expression, last, job) in &last_runs {
                    tr {
                        td { code { (name) } }
                        td { code { (expression) } }
                        td { (view::when_opt(last.as_ref().map(|r| r.slot_at))) }
                        td {
                            @if let Some(job) = job {
                                a href={"/admin/jobs/" (job.id)} { (view::badge(status_name(job.status))) }
                            } @else { "—" }
                        }
                    }
                }
            }
        } }
    };
    Ok(admin.page("/admin/jobs", "Jobs", &query.flash.flash(), body))
}

/// `GET /admin/jobs/{id}`. The payload is not shown: it may carry short-lived secrets.
pub async fn detail(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> PageResult {
    let id = view::id(&id)?;
    let job = jobs::Entity::find_by_id(id)
        .one(&http.app.db)
        .await?
        .ok_or_else(|| AppError::not_found("job"))?;
    let body = html! {
        dl.facts {
            dt { "Kind" } dd { code { (job.kind) } }
            dt { "Status" } dd { (view::badge(status_name(job.status))) }
            dt { "Attempts" } dd { (job.attempts) " of " (job.max_attempts) }
            dt { "Due" } dd { (view::when(job.run_at)) }
            dt { "Last error" } dd { (job.last_error.as_deref().unwrap_or("—")) }
            dt { "Created" } dd { (view::when(job.created_at)) }
            dt { "Finished" } dd { (view::when_opt(job.finished_at)) }
        }
        @if job.status != JobStatus::Succeeded {
            form.action method="post" action={"/admin/jobs/" (id) "/retry"} {
                (admin.csrf_field())
                button type="submit" { "Retry now" }
            }
        }
    };
    Ok(admin.page("/admin/jobs", "Job", &flash, body))
}

/// `POST /admin/jobs/{id}/retry`: the same function as `retryJob`.
pub async fn retry(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    body: Bytes,
) -> view::ActionResult {
    admin.form::<std::collections::HashMap<String, String>>(&body)?;
    let id = view::id(&id)?;
    let result = job_admin::retry_job(&http.app, admin.viewer(), id).await;
    Ok(view::after_action(
        result,
        &format!("/admin/jobs/{id}"),
        "Queued again, due now.",
    ))
}

#[derive(Deserialize)]
pub struct PurgeForm {
    #[serde(default)]
    status: String,
}

/// `POST /admin/jobs/purge`: the same function as `purgeJobs`.
pub async fn purge(admin: Admin, State(http): State<HttpState>, body: Bytes) -> view::ActionResult {
    let form: PurgeForm = admin.form(&body)?;
    let result = match parse_status(&form.status) {
        Some(status) => job_admin::purge_jobs(&http.app, admin.viewer(), status).await,
        None => Err(AppError::bad_input("status", "choose SUCCEEDED or DEAD")),
    };
    let notice = match &result {
        Ok(n) => format!("Purged {n} job(s)."),
        Err(_) => String::new(),
    };
    Ok(view::after_action(result, "/admin/jobs", &notice))
}
