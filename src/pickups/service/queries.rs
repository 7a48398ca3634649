//! Reading pickups: the pages a caller may list, a vendor's open offers, the household's
//! recycling summary and a vendor's pickup figures (SQL aggregation, not loading every pickup).

use chrono::{DateTime, Utc};
use entity::{
    pickup_offers,
    pickups::{self, PickupStatus},
};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, FromQueryResult,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Order, Query, SimpleExpr},
};
use uuid::Uuid;

use crate::{
    error::AppResult,
    paging::{Cursor, Page},
};

/// Whose pickups a listing covers.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// Admins: every pickup.
    All,
    /// Pickups the user booked.
    Household(Uuid),
    /// Pickups the vendor collects.
    Vendor(Uuid),
    /// Both of the above for one user.
    Mine {
        household: Uuid,
        vendor: Option<Uuid>,
    },
}

/// A page of pickups in `scope`, newest first, and how many there are in all.
pub async fn page(
    conn: &impl ConnectionTrait,
    scope: Scope,
    status: Option<PickupStatus>,
    page: &Page<Cursor>,
) -> AppResult<(Vec<pickups::Model>, i64)> {
    let mut filter = match scope {
        Scope::All => Condition::all(),
        Scope::Household(user) => Condition::all().add(pickups::Column::HouseholdId.eq(user)),
        Scope::Vendor(vendor) => Condition::all().add(pickups::Column::VendorId.eq(vendor)),
        Scope::Mine { household, vendor } => {
            let mut either = Condition::any().add(pickups::Column::HouseholdId.eq(household));
            if let Some(vendor) = vendor {
                either = either.add(pickups::Column::VendorId.eq(vendor));
            }
            Condition::all().add(either)
        }
    };
    if let Some(status) = status {
        filter = filter.add(pickups::Column::Status.eq(status));
    }
    crate::paging::newest_first::<pickups::Entity>(
        conn,
        filter,
        pickups::Column::CreatedAt,
        pickups::Column::Id,
        page,
    )
    .await
}

/// The pickups offered to `vendor_id` in their open round, newest first.
pub async fn offers_page(
    conn: &impl ConnectionTrait,
    vendor_id: Uuid,
    page: &Page<Cursor>,
) -> AppResult<(Vec<pickups::Model>, i64)> {
    let offered = Query::select()
        .column((pickup_offers::Entity, pickup_offers::Column::PickupId))
        .from(pickup_offers::Entity)
        .and_where(ExprTrait::eq(
            Expr::col((pickup_offers::Entity, pickup_offers::Column::VendorId)),
            vendor_id,
        ))
        .and_where(ExprTrait::equals(
            Expr::col((pickup_offers::Entity, pickup_offers::Column::Round)),
            (pickups::Entity, pickups::Column::OfferRound),
        ))
        .to_owned();
    let filter = Condition::all()
        .add(pickups::Column::Status.eq(PickupStatus::Requested))
        .add(pickups::Column::Id.in_subquery(offered));
    crate::paging::newest_first::<pickups::Entity>(
        conn,
        filter,
        pickups::Column::CreatedAt,
        pickups::Column::Id,
        page,
    )
    .await
}

/// One material of a recycling summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialTotal {
    pub category_id: Uuid,
    pub weight_grams: i64,
    pub amount: i64,
}

/// What a household recycled through completed pickups.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecyclingSummary {
    pub pickups: i64,
    pub weight_grams: i64,
    pub earned: i64,
    pub by_material: Vec<MaterialTotal>,
}

#[derive(FromQueryResult)]
struct MaterialRow {
    category_id: Uuid,
    weight_grams: i64,
    amount: i64,
}

#[derive(FromQueryResult)]
struct Totals {
    pickups: i64,
    earned: i64,
}

fn bigint(e: SimpleExpr) -> SimpleExpr {
    e.cast_as(Alias::new("BIGINT"))
}

/// `CAST(COALESCE(SUM(col), 0) AS BIGINT)`.
fn sum(col: SimpleExpr) -> SimpleExpr {
    bigint(Func::coalesce([SimpleExpr::from(Func::sum(col)), Expr::val(0)]).into())
}

fn count() -> SimpleExpr {
    bigint(Func::count(Expr::col(Asterisk)).into())
}

fn col(table: &str, column: &str) -> SimpleExpr {
    Expr::col((Alias::new(table), Alias::new(column)))
}

/// The household's completed pickups: kg by material, money earned.
pub async fn recycling_summary(
    conn: &impl ConnectionTrait,
    household: Uuid,
) -> AppResult<RecyclingSummary> {
    let backend = conn.get_database_backend();
    let materials = MaterialRow::find_by_statement(
        backend.build(
            Query::select()
                .expr_as(col("l", "category_id"), Alias::new("category_id"))
                .expr_as(sum(col("l", "weight_grams")), Alias::new("weight_grams"))
                .expr_as(sum(col("l", "amount")), Alias::new("amount"))
                .from_as(Alias::new("pickup_lines"), Alias::new("l"))
                .inner_join(
                    Alias::new("pickups"),
                    ExprTrait::equals(
                        Expr::col((Alias::new("pickups"), Alias::new("id"))),
                        (Alias::new("l"), Alias::new("pickup_id")),
                    ),
                )
                .and_where(ExprTrait::eq(col("pickups", "household_id"), household))
                .and_where(ExprTrait::eq(col("pickups", "status"), "COMPLETED"))
                .group_by_col((Alias::new("l"), Alias::new("category_id")))
                .order_by_expr(sum(col("l", "weight_grams")), Order::Desc)
                .order_by((Alias::new("l"), Alias::new("category_id")), Order::Asc),
        ),
    )
    .all(conn)
    .await?;
    let totals = Totals::find_by_statement(
        backend.build(
            Query::select()
                .expr_as(count(), Alias::new("pickups"))
                .expr_as(
                    sum(Expr::col(Alias::new("final_amount"))),
                    Alias::new("earned"),
                )
                .from(Alias::new("pickups"))
                .and_where(ExprTrait::eq(
                    Expr::col(Alias::new("household_id")),
                    household,
                ))
                .and_where(ExprTrait::eq(Expr::col(Alias::new("status")), "COMPLETED")),
        ),
    )
    .one(conn)
    .await?
    .unwrap_or(Totals {
        pickups: 0,
        earned: 0,
    });
    Ok(RecyclingSummary {
        pickups: totals.pickups,
        weight_grams: materials.iter().map(|m| m.weight_grams).sum(),
        earned: totals.earned,
        by_material: materials
            .into_iter()
            .map(|m| MaterialTotal {
                category_id: m.category_id,
                weight_grams: m.weight_grams,
                amount: m.amount,
            })
            .collect(),
    })
}

/// A vendor's pickups booked in a period.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VendorPickupFigures {
    /// (status, count), statuses with none left out.
    pub by_status: Vec<(PickupStatus, i64)>,
    /// Paid to households for completed pickups, in paise.
    pub paid_to_households: i64,
    /// Commission charged on completed pickups, in paise.
    pub commission: i64,
    /// Weight collected in completed pickups, in grams.
    pub weight_grams: i64,
}

#[derive(FromQueryResult)]
struct StatusRow {
    status: String,
    n: i64,
    paid: i64,
    commission: i64,
}

#[derive(FromQueryResult)]
struct Grams {
    grams: i64,
}

/// `vendor_id`'s pickups booked in `[from, to)`.
pub async fn vendor_figures(
    conn: &impl ConnectionTrait,
    vendor_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<VendorPickupFigures> {
    let backend = conn.get_database_backend();
    let in_period = || {
        Condition::all()
            .add(ExprTrait::eq(col("pickups", "vendor_id"), vendor_id))
            .add(ExprTrait::gte(col("pickups", "created_at"), from))
            .add(ExprTrait::lt(col("pickups", "created_at"), to))
    };
    let rows = StatusRow::find_by_statement(
        backend.build(
            Query::select()
                .expr_as(col("pickups", "status"), Alias::new("status"))
                .expr_as(count(), Alias::new("n"))
                .expr_as(sum(col("pickups", "final_amount")), Alias::new("paid"))
                .expr_as(sum(col("pickups", "commission")), Alias::new("commission"))
                .from(Alias::new("pickups"))
                .cond_where(in_period())
                .group_by_col((Alias::new("pickups"), Alias::new("status")))
                .order_by((Alias::new("pickups"), Alias::new("status")), Order::Asc),
        ),
    )
    .all(conn)
    .await?;
    let grams = Grams::find_by_statement(
        backend.build(
            Query::select()
                .expr_as(sum(col("l", "weight_grams")), Alias::new("grams"))
                .from_as(Alias::new("pickup_lines"), Alias::new("l"))
                .inner_join(
                    Alias::new("pickups"),
                    ExprTrait::equals(
                        Expr::col((Alias::new("pickups"), Alias::new("id"))),
                        (Alias::new("l"), Alias::new("pickup_id")),
                    ),
                )
                .cond_where(in_period())
                .and_where(ExprTrait::eq(col("pickups", "status"), "COMPLETED")),
        ),
    )
    .one(conn)
    .await?
    .map_or(0, |g| g.grams);
    let mut figures = VendorPickupFigures {
        weight_grams: grams,
        ..Default::default()
    };
    for row in rows {
        let Some(status) = crate::pickups::state::ALL
            .into_iter()
            .find(|s| crate::pickups::state::name(*s) == row.status)
        else {
            continue;
        };
        if status == PickupStatus::Completed {
            figures.paid_to_households += row.paid;
            figures.commission += row.commission;
        }
        figures.by_status.push((status, row.n));
    }
    Ok(figures)
}

#[derive(FromQueryResult)]
struct RatingRow {
    total: i64,
    n: i64,
}

/// A collector's rating from households: (average, count).
pub async fn collector_rating(
    conn: &impl ConnectionTrait,
    vendor_id: Uuid,
) -> AppResult<(Option<f64>, i64)> {
    let backend = conn.get_database_backend();
    let row = RatingRow::find_by_statement(
        backend.build(
            Query::select()
                .expr_as(sum(Expr::col(Alias::new("rating"))), Alias::new("total"))
                .expr_as(count(), Alias::new("n"))
                .from(Alias::new("pickup_reviews"))
                .and_where(ExprTrait::eq(Expr::col(Alias::new("vendor_id")), vendor_id)),
        ),
    )
    .one(conn)
    .await?
    .unwrap_or(RatingRow { total: 0, n: 0 });
    if row.n == 0 {
        return Ok((None, 0));
    }
    Ok((Some(row.total as f64 / row.n as f64), row.n))
}
