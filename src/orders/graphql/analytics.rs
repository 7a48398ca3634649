//! `vendorAnalytics`: a vendor's figures for a period, from SQL aggregation
//! (`orders::analytics`).

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::OrderStatus;
use crate::{
    catalog::{graphql::Product, loaders::ProductById},
    error::{AppError, AppResult},
    graphql::{
        context::ContextExt as _,
        ids::parse_id,
        scalars::{Money, Paise},
    },
    orders::analytics,
    vendors::service as vendors,
};

/// Orders of one status in the period.
#[derive(SimpleObject)]
pub struct StatusCount {
    pub status: OrderStatus,
    pub count: i64,
    /// Sum of their totals, in paise.
    pub total: Paise,
}

/// A product's sales in the period (orders that still stand).
pub struct ProductSales(analytics::TopProduct);

#[Object]
impl ProductSales {
    async fn product(&self, ctx: &Context<'_>) -> AppResult<Option<Product>> {
        Ok(ctx
            .loader()
            .load_one(ProductById(self.0.product_id))
            .await?
            .map(Product::from))
    }

    /// The name on the order lines.
    async fn product_name(&self) -> &str {
        &self.0.product_name
    }

    /// Units sold.
    async fn quantity(&self) -> i64 {
        self.0.quantity
    }

    /// Sales, in paise.
    async fn sales(&self) -> Paise {
        Paise(self.0.sales)
    }
}

/// One UTC day of the period.
#[derive(SimpleObject)]
pub struct DailySales {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    /// Orders placed that day that still stand.
    pub orders: i64,
    /// Their totals, in paise.
    pub gross_sales: Paise,
}

/// A vendor's figures for orders placed in a period. Gross sales count orders that still stand
/// (not cancelled or refunded); commission and net earnings count completed orders.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct VendorAnalytics {
    /// The vendor (for the `pickups` figures, added by the pickups domain).
    #[graphql(skip)]
    pub vendor_id: uuid::Uuid,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Orders per status (statuses with none are left out).
    pub orders_by_status: Vec<StatusCount>,
    /// Every order placed in the period.
    pub total_orders: i64,
    /// In paise.
    pub gross_sales: Paise,
    pub gross_sales_money: Money,
    /// The platform's commission on completed orders, in paise.
    pub commission: Paise,
    /// Completed orders' totals less commission, in paise.
    pub net_earnings: Paise,
    pub net_earnings_money: Money,
    /// Payouts paid in the period, in paise.
    pub paid_out: Paise,
    /// Payouts requested or approved and not yet paid (now, whatever the period), in paise.
    pub pending_payout: Paise,
    /// Earnings that can be requested as a payout now, in paise.
    pub available_for_payout: Paise,
    /// Best-selling products by sales.
    pub top_products: Vec<ProductSales>,
    /// Days of the period with orders, oldest first.
    pub daily: Vec<DailySales>,
}

#[derive(Default)]
pub struct AnalyticsQuery;

#[Object]
impl AnalyticsQuery {
    /// The caller's shop figures for orders placed in `[from, to)` (default: all time up to
    /// now). Admins may name any vendor.
    async fn vendor_analytics(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        vendor_id: Option<ID>,
    ) -> AppResult<VendorAnalytics> {
        let viewer = ctx.viewer()?;
        let db = &ctx.state().db;
        let vendor = match vendor_id {
            Some(id) if viewer.is_admin() => vendors::find(db, parse_id("vendorId", &id)?).await?,
            Some(_) => return Err(AppError::forbidden()),
            None => vendors::require_own(db, viewer.user_id).await?,
        };
        let from = from.unwrap_or(DateTime::UNIX_EPOCH);
        let to = to.unwrap_or_else(Utc::now);
        if from >= to {
            return Err(AppError::bad_input("to", "must be after `from`"));
        }
        let f = analytics::vendor_figures(db, vendor.id, from, to).await?;
        Ok(VendorAnalytics {
            vendor_id: vendor.id,
            from,
            to,
            total_orders: f.by_status.iter().map(|s| s.orders).sum(),
            orders_by_status: f
                .by_status
                .iter()
                .map(|s| StatusCount {
                    status: s.status.into(),
                    count: s.orders,
                    total: Paise(s.total),
                })
                .collect(),
            gross_sales: Paise(f.gross_sales),
            gross_sales_money: Money::inr(f.gross_sales),
            commission: Paise(f.commission),
            net_earnings: Paise(f.net_earnings),
            net_earnings_money: Money::inr(f.net_earnings),
            paid_out: Paise(f.paid_out),
            pending_payout: Paise(f.pending_payout),
            available_for_payout: Paise(f.available_for_payout),
            top_products: f.top_products.into_iter().map(ProductSales).collect(),
            daily: f
                .daily
                .into_iter()
                .map(|d| DailySales {
                    date: d.date,
                    orders: d.orders,
                    gross_sales: Paise(d.gross_sales),
                })
                .collect(),
        })
    }
}
