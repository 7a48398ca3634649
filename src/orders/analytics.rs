//! Vendor analytics computed by SQL aggregation (GROUP BY), never by loading every order. Orders
//! count in the period by their placement time; money figures follow the order's status:
//! gross sales are orders that still stand (not CANCELLED/REFUNDED), commission and net earnings
//! are of COMPLETED orders (the money actually released). Day buckets are UTC dates, made by
//! one backend-specific expression ([`day_of`]).

use chrono::{DateTime, Utc};
use entity::{ledger_accounts::AccountKind, orders::OrderStatus};
use sea_orm::{
    ConnectionTrait, DbBackend, FromQueryResult,
    sea_query::{
        Alias, Asterisk, Condition, Expr, ExprTrait as _, Func, JoinType, Order, Query, SimpleExpr,
    },
};
use uuid::Uuid;

use crate::{error::AppResult, wallet::ledger};

/// How many products `top_products` lists.
pub const TOP_PRODUCTS: i64 = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusFigures {
    pub status: OrderStatus,
    pub orders: i64,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopProduct {
    pub product_id: Uuid,
    pub product_name: String,
    pub quantity: i64,
    pub sales: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    pub orders: i64,
    pub gross_sales: i64,
}

#[derive(Debug, Clone)]
pub struct VendorFigures {
    pub by_status: Vec<StatusFigures>,
    pub gross_sales: i64,
    pub commission: i64,
    pub net_earnings: i64,
    pub paid_out: i64,
    pub pending_payout: i64,
    pub available_for_payout: i64,
    pub top_products: Vec<TopProduct>,
    pub daily: Vec<Day>,
}

/// The SQL for "the UTC date of `column`" as `YYYY-MM-DD` text. SQLite stores timestamps as
/// UTC text, so the date is its first ten characters.
pub fn day_of(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
        _ => format!("substr({column}, 1, 10)"),
    }
}

#[derive(FromQueryResult)]
struct StatusRow {
    status: String,
    orders: i64,
    total: i64,
    commission: i64,
}

#[derive(FromQueryResult)]
struct TopRow {
    product_id: Uuid,
    product_name: String,
    quantity: i64,
    sales: i64,
}

#[derive(FromQueryResult)]
struct DayRow {
    day: String,
    orders: i64,
    gross_sales: i64,
}

#[derive(FromQueryResult)]
struct Sum {
    total: i64,
}

fn parse_status(s: &str) -> Option<OrderStatus> {
    super::state::ALL
        .into_iter()
        .find(|st| super::state::name(*st) == s)
}

/// The figures of `vendor_id` for orders placed in `[from, to)`.
pub async fn vendor_figures(
    conn: &impl ConnectionTrait,
    vendor_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<VendorFigures> {
    let backend = conn.get_database_backend();
    let bigint = |e: SimpleExpr| e.cast_as(Alias::new("BIGINT"));
    let sum = |col: SimpleExpr| {
        bigint(Func::coalesce([SimpleExpr::from(Func::sum(col)), Expr::val(0)]).into())
    };
    let count = || bigint(Func::count(Expr::col(Asterisk)).into());
    let in_range = |created: (Alias, Alias)| {
        Condition::all()
            .add(Expr::col((created.0.clone(), Alias::new("vendor_id"))).eq(vendor_id))
            .add(Expr::col((created.0.clone(), created.1.clone())).gte(from))
            .add(Expr::col(created).lt(to))
    };
    let orders = || Alias::new("orders");
    let standing = |table: Alias| {
        Expr::col((table, Alias::new("status"))).is_not_in(["CANCELLED", "REFUNDED"])
    };

    let rows = StatusRow::find_by_statement(
        backend.build(
            Query::select()
                .expr_as(Expr::col(Alias::new("status")), Alias::new("status"))
                .expr_as(count(), Alias::new("orders"))
                .expr_as(sum(Expr::col(Alias::new("total"))), Alias::new("total"))
                .expr_as(
                    sum(Expr::col(Alias::new("commission"))),
                    Alias::new("commission"),
                )
                .from(orders())
                .cond_where(in_range((orders(), Alias::new("created_at"))))
                .group_by_col(Alias::new("status")),
        ),
    )
    .all(conn)
    .await?;
    let mut by_status = Vec::new();
    let (mut gross_sales, mut commission, mut net_earnings) = (0, 0, 0);
    for row in rows {
        let Some(status) = parse_status(&row.status) else {
            continue;
        };
        if !matches!(status, OrderStatus::Cancelled | OrderStatus::Refunded) {
            gross_sales += row.total;
        }
        if status == OrderStatus::Completed {
            commission += row.commission;
            net_earnings += row.total - row.commission;
        }
        by_status.push(StatusFigures {
            status,
            orders: row.orders,
            total: row.total,
        });
    }
    by_status.sort_by_key(|s| super::state::ALL.iter().position(|a| *a == s.status));

    let (i, o) = (Alias::new("i"), Alias::new("o"));
    let item = |c: &str| Expr::col((i.clone(), Alias::new(c)));
    let top_products = TopRow::find_by_statement(
        backend.build(
            Query::select()
                .expr_as(item("product_id"), Alias::new("product_id"))
                .expr_as(Func::max(item("product_name")), Alias::new("product_name"))
                .expr_as(
                    bigint(Func::sum(item("quantity")).into()),
                    Alias::new("quantity"),
                )
                .expr_as(
                    bigint(Func::sum(item("line_total")).into()),
                    Alias::new("sales"),
                )
                .from_as(Alias::new("order_items"), i.clone())
                .join_as(
                    JoinType::InnerJoin,
                    orders(),
                    o.clone(),
                    Expr::col((o.clone(), Alias::new("id")))
                        .equals((i.clone(), Alias::new("order_id"))),
                )
                .cond_where(in_range((o.clone(), Alias::new("created_at"))))
                .and_where(standing(o.clone()))
                .group_by_col((i.clone(), Alias::new("product_id")))
                .order_by(Alias::new("sales"), Order::Desc)
                .order_by(Alias::new("quantity"), Order::Desc)
                .order_by(Alias::new("product_id"), Order::Asc)
                .limit(TOP_PRODUCTS.unsigned_abs()),
        ),
    )
    .all(conn)
    .await?
    .into_iter()
    .map(|r| TopProduct {
        product_id: r.product_id,
        product_name: r.product_name,
        quantity: r.quantity,
        sales: r.sales,
    })
    .collect();

    let day = Expr::cust(day_of(backend, "created_at"));
    let daily = DayRow::find_by_statement(
        backend.build(
            Query::select()
                .expr_as(day.clone(), Alias::new("day"))
                .expr_as(count(), Alias::new("orders"))
                .expr_as(
                    sum(Expr::col(Alias::new("total"))),
                    Alias::new("gross_sales"),
                )
                .from(orders())
                .cond_where(in_range((orders(), Alias::new("created_at"))))
                .and_where(standing(orders()))
                .add_group_by([day])
                .order_by(Alias::new("day"), Order::Asc),
        ),
    )
    .all(conn)
    .await?
    .into_iter()
    .map(|r| Day {
        date: r.day,
        orders: r.orders,
        gross_sales: r.gross_sales,
    })
    .collect();

    let payouts = || Alias::new("payouts");
    let paid_out = Sum::find_by_statement(
        backend.build(
            Query::select()
                .expr_as(sum(Expr::col(Alias::new("amount"))), Alias::new("total"))
                .from(payouts())
                .cond_where(in_range((payouts(), Alias::new("paid_at"))))
                .and_where(Expr::col(Alias::new("status")).eq("PAID")),
        ),
    )
    .one(conn)
    .await?
    .map_or(0, |s| s.total);
    let pending_payout = ledger::account(conn, AccountKind::VendorPayoutHeld, vendor_id)
        .await?
        .balance;
    let available_for_payout = ledger::account(conn, AccountKind::VendorEarnings, vendor_id)
        .await?
        .balance;

    Ok(VendorFigures {
        by_status,
        gross_sales,
        commission,
        net_earnings,
        paid_out,
        pending_payout,
        available_for_payout,
        top_products,
        daily,
    })
}
