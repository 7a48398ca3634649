//! The dashboard: today's and yesterday's figures (computed live), the queues waiting for an
//! operator (KYC reviews, payouts, disputed pickups), a 30-day chart of orders and GMV from the
//! stored daily reports (server-rendered SVG, no script), and the job queue's health.

use std::fmt::Write as _;

use axum::extract::{Query, State};
use chrono::{Duration, NaiveDate, Utc};
use entity::{
    daily_reports,
    payouts::{self, PayoutStatus},
    vendors::{self, KycStatus},
};
use maud::{Markup, html};
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _, QueryOrder as _,
};

use super::{
    jobs::age,
    session::Admin,
    view::{self, Flash, PageResult},
};
use crate::{
    http::HttpState,
    jobs::control::{self, status_name},
    pickups,
    reports::service::{self as reports, DailyFigures},
};

fn figures_card(label: &str, today: i64, yesterday: i64, money: bool) -> Markup {
    let show = |v: i64| if money { view::money(v) } else { v.to_string() };
    html! {
        div.card {
            small { (label) }
            b { (show(today)) }
            small { "yesterday " (show(yesterday)) }
        }
    }
}

fn orders_of(figures: &DailyFigures) -> i64 {
    figures.orders_by_status.values().sum()
}

/// The last 30 days as bars (orders) and a line (GMV), each scaled to its own maximum.
pub fn chart(days: &[(NaiveDate, i64, i64)]) -> String {
    let (width, height, pad) = (600.0_f64, 180.0_f64, 20.0_f64);
    let max_orders = days.iter().map(|d| d.1).max().unwrap_or(0).max(1) as f64;
    let max_gmv = days.iter().map(|d| d.2).max().unwrap_or(0).max(1) as f64;
    let step = (width - 2.0 * pad) / days.len().max(1) as f64;
    let plot = height - 2.0 * pad;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
         aria-label=\"Orders (bars) and GMV (line) over the last 30 days\">"
    );
    let mut line = String::new();
    for (i, (day, orders, gmv)) in days.iter().enumerate() {
        let x = pad + step * i as f64;
        let bar = plot * (*orders as f64) / max_orders;
        let _ = write!(
            svg,
            "<rect class=\"orders\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\">\
             <title>{day}: {orders} orders, {}</title></rect>",
            x + 1.0,
            height - pad - bar,
            (step - 2.0).max(1.0),
            bar,
            view::money(*gmv)
        );
        let y = height - pad - plot * (*gmv as f64) / max_gmv;
        let _ = write!(line, "{:.1},{:.1} ", x + step / 2.0, y);
        if i % 7 == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                x,
                height - 4.0,
                day.format("%d %b")
            );
        }
    }
    let _ = write!(
        svg,
        "<polyline class=\"gmv\" points=\"{}\"/><text x=\"{pad}\" y=\"12\">max {} orders/day · \
         max GMV {}</text></svg>",
        line.trim_end(),
        max_orders,
        view::money(max_gmv as i64)
    );
    svg
}

/// `GET /admin`.
pub async fn page(
    admin: Admin,
    State(http): State<HttpState>,
    Query(flash): Query<Flash>,
) -> PageResult {
    let db = &http.app.db;
    let today = Utc::now().date_naive();
    let yesterday = today - Duration::days(1);
    let now = reports::compute(db, today).await?;
    let before = reports::compute(db, yesterday).await?;
    let kyc_waiting = vendors::Entity::find()
        .filter(vendors::Column::KycStatus.eq(KycStatus::Submitted))
        .count(db)
        .await?;
    let payouts_waiting = payouts::Entity::find()
        .filter(payouts::Column::Status.eq(PayoutStatus::Requested))
        .count(db)
        .await?;
    let disputed = pickups::admin::count_disputed(db).await?;
    let jobs = control::stats(db, Utc::now()).await?;
    let first = today - Duration::days(29);
    let stored = daily_reports::Entity::find()
        .filter(daily_reports::Column::Day.gte(first))
        .order_by_asc(daily_reports::Column::Day)
        .all(db)
        .await?;
    let days: Vec<(NaiveDate, i64, i64)> = (0..30)
        .map(|i| {
            let day = first + Duration::days(i);
            let figures = stored
                .iter()
                .find(|r| r.day == day)
                .map(reports::figures)
                .unwrap_or_default();
            (day, orders_of(&figures), figures.gmv_paise)
        })
        .collect();
    let body = html! {
        h2 { "Today" }
        div.cards {
            (figures_card("New users", now.new_users, before.new_users, false))
            (figures_card("New vendors", now.new_vendors, before.new_vendors, false))
            (figures_card("Orders placed", orders_of(&now), orders_of(&before), false))
            (figures_card("GMV", now.gmv_paise, before.gmv_paise, true))
            (figures_card("Commission", now.commission_paise, before.commission_paise, true))
            (figures_card("Recharges", now.recharged_paise, before.recharged_paise, true))
        }
        p.muted {
            "Orders today by status: "
            @for (status, count) in &now.orders_by_status { (status) " " (count) " · " }
        }
        h2 { "Waiting for you" }
        div.cards {
            a.card href="/admin/vendors?kyc=SUBMITTED" { small { "KYC reviews" } b { (kyc_waiting) } }
            a.card href="/admin/payouts?status=REQUESTED" { small { "Payouts to approve" } b { (payouts_waiting) } }
            a.card href="/admin/pickups?status=DISPUTED" { small { "Disputed pickups" } b { (disputed) } }
        }
        h2 { "Last 30 days" }
        (view::svg(chart(&days)))
        h2 { "Job queue" }
        div.cards {
            @for (status, count) in &jobs.by_status {
                a.card href={"/admin/jobs?status=" (status_name(*status))} { small { (status_name(*status)) } b { (count) } }
            }
            div.card { small { "Oldest due job waiting" } b { (jobs.oldest_pending_age_secs.map(age).unwrap_or_else(|| "none".into())) } }
        }
    };
    Ok(admin.page("/admin", "Dashboard", &flash, body))
}
