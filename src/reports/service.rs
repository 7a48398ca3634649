//! Computing, storing and reading daily reports.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{
    daily_reports,
    orders::{self, OrderStatus},
    recharges,
    recharges::RechargeStatus,
    users::{self, Role},
    vendors,
};
use sea_orm::{
    ActiveEnum as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait as _,
    FromQueryResult, PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
    sea_query::OnConflict,
};

use crate::{
    AppState,
    error::{AppError, AppResult},
    paging::{Cursor, Page},
};

pub use super::figures::DailyFigures;

/// `[day 00:00, next day 00:00)` in UTC.
pub fn day_bounds(day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = day.and_time(chrono::NaiveTime::MIN).and_utc();
    (start, start + Duration::days(1))
}

/// Computes the figures of `day` from the database.
pub async fn compute(conn: &impl ConnectionTrait, day: NaiveDate) -> AppResult<DailyFigures> {
    let (from, to) = day_bounds(day);
    let mut figures = DailyFigures {
        new_users: count(
            users::Entity::find()
                .filter(users::Column::CreatedAt.gte(from))
                .filter(users::Column::CreatedAt.lt(to))
                .count(conn)
                .await?,
        ),
        new_vendors: count(
            vendors::Entity::find()
                .filter(vendors::Column::CreatedAt.gte(from))
                .filter(vendors::Column::CreatedAt.lt(to))
                .count(conn)
                .await?,
        ),
        ..DailyFigures::default()
    };
    add_recharge_figures(conn, from, to, &mut figures).await?;
    add_order_figures(conn, from, to, &mut figures).await?;
    Ok(figures)
}

#[derive(FromQueryResult)]
struct CountAndSum {
    count: i64,
    total: Option<i64>,
}

/// Succeeded recharges, by the time they succeeded (their last update: SUCCEEDED is final).
async fn add_recharge_figures(
    conn: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    figures: &mut DailyFigures,
) -> AppResult<()> {
    let row = recharges::Entity::find()
        .select_only()
        .column_as(recharges::Column::Id.count(), "count")
        .column_as(
            sea_orm::sea_query::Expr::cust("CAST(COALESCE(SUM(amount), 0) AS BIGINT)"),
            "total",
        )
        .filter(recharges::Column::Status.eq(RechargeStatus::Succeeded))
        .filter(recharges::Column::UpdatedAt.gte(from))
        .filter(recharges::Column::UpdatedAt.lt(to))
        .into_model::<CountAndSum>()
        .one(conn)
        .await?;
    if let Some(row) = row {
        figures.recharges = row.count;
        figures.recharged_paise = row.total.unwrap_or(0);
    }
    Ok(())
}

#[derive(FromQueryResult)]
struct StatusRow {
    status: OrderStatus,
    count: i64,
    total: Option<i64>,
}

/// The orders' figures of the day: orders placed by their status now, GMV (placed and still
/// standing) and the commission of the orders completed that day.
async fn add_order_figures(
    conn: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    figures: &mut DailyFigures,
) -> AppResult<()> {
    let placed = orders::Entity::find()
        .select_only()
        .column(orders::Column::Status)
        .column_as(orders::Column::Id.count(), "count")
        .column_as(
            sea_orm::sea_query::Expr::cust("CAST(COALESCE(SUM(total), 0) AS BIGINT)"),
            "total",
        )
        .filter(orders::Column::CreatedAt.gte(from))
        .filter(orders::Column::CreatedAt.lt(to))
        .group_by(orders::Column::Status)
        .into_model::<StatusRow>()
        .all(conn)
        .await?;
    for row in placed {
        if !matches!(row.status, OrderStatus::Cancelled | OrderStatus::Refunded) {
            figures.gmv_paise += row.total.unwrap_or(0);
        }
        figures
            .orders_by_status
            .insert(row.status.to_value(), row.count);
    }
    let completed = orders::Entity::find()
        .select_only()
        .column_as(orders::Column::Id.count(), "count")
        .column_as(
            sea_orm::sea_query::Expr::cust("CAST(COALESCE(SUM(commission), 0) AS BIGINT)"),
            "total",
        )
        .filter(orders::Column::Status.eq(OrderStatus::Completed))
        .filter(orders::Column::CompletedAt.gte(from))
        .filter(orders::Column::CompletedAt.lt(to))
        .into_model::<CountAndSum>()
        .one(conn)
        .await?;
    figures.commission_paise = completed.and_then(|row| row.total).unwrap_or(0);
    Ok(())
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Computes and stores the report of `day` (replacing an earlier one for the same day, so a
/// retried job writes one row).
pub async fn generate(
    conn: &impl ConnectionTrait,
    day: NaiveDate,
) -> AppResult<daily_reports::Model> {
    let figures = compute(conn, day).await?;
    let json = serde_json::to_value(&figures).map_err(AppError::internal)?;
    let now = Utc::now();
    daily_reports::Entity::insert(daily_reports::ActiveModel {
        id: Set(crate::db::new_id()),
        day: Set(day),
        figures: Set(json),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(daily_reports::Column::Day)
            .update_columns([
                daily_reports::Column::Figures,
                daily_reports::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    find(conn, day)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("the report of {day} vanished")))
}

pub async fn find(
    conn: &impl ConnectionTrait,
    day: NaiveDate,
) -> AppResult<Option<daily_reports::Model>> {
    Ok(daily_reports::Entity::find()
        .filter(daily_reports::Column::Day.eq(day))
        .one(conn)
        .await?)
}

/// A page of reports, newest day first (up to `limit + 1` rows: the extra one only says there
/// is a next page), and how many there are in all. A report's position is its day
/// ([`cursor_of`]).
pub async fn page(
    conn: &impl ConnectionTrait,
    page: &Page<Cursor>,
) -> AppResult<(Vec<daily_reports::Model>, i64)> {
    let total = daily_reports::Entity::find().count(conn).await?;
    let mut query = daily_reports::Entity::find();
    if let Some(after) = page.after {
        query = query.filter(daily_reports::Column::Day.lt(after.at.date_naive()));
    }
    let rows = query
        .order_by_desc(daily_reports::Column::Day)
        .limit(page.limit + 1)
        .all(conn)
        .await?;
    Ok((rows, i64::try_from(total).unwrap_or(i64::MAX)))
}

/// Where `report` stands in [`page`]: the start of its day.
pub fn cursor_of(report: &daily_reports::Model) -> Cursor {
    Cursor {
        at: day_bounds(report.day).0,
        id: report.id,
    }
}

/// The stored figures of a report (unknown or missing figures read as zero).
pub fn figures(report: &daily_reports::Model) -> DailyFigures {
    serde_json::from_value(report.figures.clone()).unwrap_or_default()
}

/// The job: generate the report of `day` and email it to every active admin.
pub async fn generate_and_send(state: &AppState, day: NaiveDate) -> anyhow::Result<()> {
    let report = generate(&state.db, day)
        .await
        .map_err(|e| anyhow::anyhow!("generate the report of {day}: {e:?}"))?;
    let figures = figures(&report);
    let admins = users::Entity::find()
        .filter(users::Column::Role.eq(Role::Admin))
        .filter(users::Column::IsActive.eq(true))
        .all(&state.db)
        .await?;
    for admin in admins {
        let email = super::email::daily_report(&admin.email, &admin.full_name, day, &figures);
        state.mailer.send(&email).await?;
    }
    Ok(())
}
