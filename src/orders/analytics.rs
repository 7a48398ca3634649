//! Vendor analytics computed by SQL aggregation (GROUP BY), never by loading every order. Orders
//! count in the period by their placement time; money figures follow the order's status:
//! gross sales are orders that still stand (not CANCELLED/REFUNDED), commission and net earnings
//! are of COMPLETED orders (the money actually released). Day buckets are UTC dates, made by
//! one backend-specific expression ([`day_of`]).

use chrono::{DateTime, Utc};
use entity::{ledger_accounts::AccountKind, orders::OrderStatus};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};
use uuid::Uuid;

use crate::{
    error::AppResult,
    wallet::ledger::{self, portable},
};

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
    let stmt = |sql: &str, values: Vec<Value>| {
        Statement::from_sql_and_values(backend, portable(backend, sql), values)
    };
    let range = || -> Vec<Value> { vec![vendor_id.into(), from.into(), to.into()] };

    let rows = StatusRow::find_by_statement(stmt(
        "SELECT status, CAST(COUNT(*) AS BIGINT) AS orders, \
           CAST(COALESCE(SUM(total), 0) AS BIGINT) AS total, \
           CAST(COALESCE(SUM(commission), 0) AS BIGINT) AS commission \
         FROM orders WHERE vendor_id = $1 AND created_at >= $2 AND created_at < $3 \
         GROUP BY status",
        range(),
    ))
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

    let top_products = TopRow::find_by_statement(stmt(
        "SELECT i.product_id AS product_id, MAX(i.product_name) AS product_name, \
           CAST(SUM(i.quantity) AS BIGINT) AS quantity, CAST(SUM(i.line_total) AS BIGINT) AS sales \
         FROM order_items i JOIN orders o ON o.id = i.order_id \
         WHERE o.vendor_id = $1 AND o.created_at >= $2 AND o.created_at < $3 \
           AND o.status NOT IN ('CANCELLED', 'REFUNDED') \
         GROUP BY i.product_id ORDER BY sales DESC, quantity DESC, product_id LIMIT $4",
        {
            let mut v = range();
            v.push(TOP_PRODUCTS.into());
            v
        },
    ))
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

    let day = day_of(backend, "created_at");
    let daily = DayRow::find_by_statement(stmt(
        &format!(
            "SELECT {day} AS day, CAST(COUNT(*) AS BIGINT) AS orders, \
               CAST(COALESCE(SUM(total), 0) AS BIGINT) AS gross_sales \
             FROM orders WHERE vendor_id = $1 AND created_at >= $2 AND created_at < $3 \
               AND status NOT IN ('CANCELLED', 'REFUNDED') \
             GROUP BY {day} ORDER BY day"
        ),
        range(),
    ))
    .all(conn)
    .await?
    .into_iter()
    .map(|r| Day {
        date: r.day,
        orders: r.orders,
        gross_sales: r.gross_sales,
    })
    .collect();

    let paid_out = Sum::find_by_statement(stmt(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total FROM payouts \
         WHERE vendor_id = $1 AND status = 'PAID' AND paid_at >= $2 AND paid_at < $3",
        range(),
    ))
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
