//! Reading pickups: the pages a caller may list, a vendor's open offers, the household's
//! recycling summary and a vendor's pickup figures (SQL aggregation, not loading every pickup).

use chrono::{DateTime, Utc};
use entity::{
    pickup_offers,
    pickups::{self, PickupStatus},
};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, FromQueryResult, Statement,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use crate::{
    error::AppResult,
    graphql::relay::{Cursor, Page},
    wallet::ledger::portable,
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
    crate::graphql::paging::newest_first::<pickups::Entity>(
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
    crate::graphql::paging::newest_first::<pickups::Entity>(
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

/// The household's completed pickups: kg by material, money earned.
pub async fn recycling_summary(
    conn: &impl ConnectionTrait,
    household: Uuid,
) -> AppResult<RecyclingSummary> {
    let backend = conn.get_database_backend();
    let materials = MaterialRow::find_by_statement(Statement::from_sql_and_values(
        backend,
        portable(
            backend,
            "SELECT l.category_id AS category_id, \
               CAST(SUM(l.weight_grams) AS BIGINT) AS weight_grams, \
               CAST(SUM(l.amount) AS BIGINT) AS amount \
             FROM pickup_lines l JOIN pickups p ON p.id = l.pickup_id \
             WHERE p.household_id = $1 AND p.status = 'COMPLETED' \
             GROUP BY l.category_id ORDER BY weight_grams DESC, category_id",
        ),
        [household.into()],
    ))
    .all(conn)
    .await?;
    let totals = Totals::find_by_statement(Statement::from_sql_and_values(
        backend,
        portable(
            backend,
            "SELECT CAST(COUNT(*) AS BIGINT) AS pickups, \
               CAST(COALESCE(SUM(final_amount), 0) AS BIGINT) AS earned \
             FROM pickups WHERE household_id = $1 AND status = 'COMPLETED'",
        ),
        [household.into()],
    ))
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
    let rows = StatusRow::find_by_statement(Statement::from_sql_and_values(
        backend,
        portable(
            backend,
            "SELECT status, CAST(COUNT(*) AS BIGINT) AS n, \
               CAST(COALESCE(SUM(CASE WHEN status = 'COMPLETED' THEN final_amount ELSE 0 END), 0) AS BIGINT) AS paid, \
               CAST(COALESCE(SUM(CASE WHEN status = 'COMPLETED' THEN commission ELSE 0 END), 0) AS BIGINT) AS commission \
             FROM pickups WHERE vendor_id = $1 AND created_at >= $2 AND created_at < $3 \
             GROUP BY status ORDER BY status",
        ),
        [vendor_id.into(), from.into(), to.into()],
    ))
    .all(conn)
    .await?;
    let grams = Grams::find_by_statement(Statement::from_sql_and_values(
        backend,
        portable(
            backend,
            "SELECT CAST(COALESCE(SUM(l.weight_grams), 0) AS BIGINT) AS grams \
             FROM pickup_lines l JOIN pickups p ON p.id = l.pickup_id \
             WHERE p.vendor_id = $1 AND p.status = 'COMPLETED' AND p.created_at >= $2 AND p.created_at < $3",
        ),
        [vendor_id.into(), from.into(), to.into()],
    ))
    .one(conn)
    .await?
    .map_or(0, |g| g.grams);
    let mut figures = VendorPickupFigures {
        weight_grams: grams,
        ..Default::default()
    };
    for row in rows {
        use sea_orm::ActiveEnum as _;
        if let Ok(status) = PickupStatus::try_from_value(&row.status) {
            figures.by_status.push((status, row.n));
        }
        figures.paid_to_households += row.paid;
        figures.commission += row.commission;
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
    let row = RatingRow::find_by_statement(Statement::from_sql_and_values(
        backend,
        portable(
            backend,
            "SELECT CAST(COALESCE(SUM(rating), 0) AS BIGINT) AS total, CAST(COUNT(*) AS BIGINT) AS n \
             FROM pickup_reviews WHERE vendor_id = $1",
        ),
        [vendor_id.into()],
    ))
    .one(conn)
    .await?
    .unwrap_or(RatingRow { total: 0, n: 0 });
    if row.n == 0 {
        return Ok((None, 0));
    }
    Ok((Some(row.total as f64 / row.n as f64), row.n))
}
