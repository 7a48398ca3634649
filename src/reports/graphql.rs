//! Admin `dailyReports` and `dailyReport(date)`.

use async_graphql::{Context, ID, Object, connection::Connection};
use chrono::{DateTime, NaiveDate, Utc};
use entity::daily_reports;
use sea_orm::ActiveEnum as _;

use super::service;
use crate::{
    error::AppResult,
    graphql::{
        context::ContextExt as _,
        relay::{self, ConnectionFields, Cursor, Page},
        scalars::Money,
    },
};

/// The platform's figures for one UTC day, made by the daily report job.
pub struct DailyReport(pub daily_reports::Model);

#[Object]
impl DailyReport {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The UTC day (`YYYY-MM-DD`) the figures are about.
    async fn date(&self) -> NaiveDate {
        self.0.day
    }

    /// Accounts created that day.
    async fn new_users(&self) -> i64 {
        service::figures(&self.0).new_users
    }

    /// Vendor profiles created that day.
    async fn new_vendors(&self) -> i64 {
        service::figures(&self.0).new_vendors
    }

    /// Wallet recharges that succeeded that day.
    async fn wallet_recharges(&self) -> i64 {
        service::figures(&self.0).recharges
    }

    /// Their total.
    async fn wallet_recharge_total(&self) -> Money {
        Money::inr(service::figures(&self.0).recharged_paise)
    }

    /// Orders placed that day, by their status now.
    async fn orders_by_status(&self) -> Vec<ReportStatusCount> {
        service::figures(&self.0)
            .orders_by_status
            .into_iter()
            .filter_map(|(status, count)| {
                let status = entity::orders::OrderStatus::try_from_value(&status).ok()?;
                Some(ReportStatusCount {
                    status: status.into(),
                    count,
                })
            })
            .collect()
    }

    /// Gross merchandise value: the totals of the orders placed that day that still stand
    /// (not cancelled or refunded).
    async fn gmv(&self) -> Money {
        Money::inr(service::figures(&self.0).gmv_paise)
    }

    /// The platform's commission on the orders completed that day.
    async fn commission(&self) -> Money {
        Money::inr(service::figures(&self.0).commission_paise)
    }

    /// When the report was (last) generated.
    async fn generated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// How many of the day's orders are in one status.
#[derive(async_graphql::SimpleObject)]
pub struct ReportStatusCount {
    pub status: crate::orders::graphql::OrderStatus,
    pub count: i64,
}

#[derive(Default)]
pub struct ReportsQuery;

#[Object]
impl ReportsQuery {
    /// Admin: daily reports, newest day first.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn daily_reports(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Connection<Cursor, DailyReport, ConnectionFields>> {
        ctx.admin()?;
        let page = Page::<Cursor>::new(first, after)?;
        let (rows, total) = service::page(&ctx.state().db, &page).await?;
        Ok(relay::connection(
            &page,
            rows,
            total,
            service::cursor_of,
            DailyReport,
        ))
    }

    /// Admin: the report of one UTC day, if it was generated.
    async fn daily_report(
        &self,
        ctx: &Context<'_>,
        date: NaiveDate,
    ) -> AppResult<Option<DailyReport>> {
        ctx.admin()?;
        Ok(service::find(&ctx.state().db, date).await?.map(DailyReport))
    }
}
