//! `orders`: one buyer's order from one vendor. The money is held in escrow (`hold_id`) for as
//! long as the order is open; prices, commission and the delivery address are frozen at
//! placement. `status` only changes through the transition table (src/orders/state.rs).

use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum OrderStatus {
    /// Placed; the total is held from the buyer's wallet.
    #[sea_orm(string_value = "PLACED")]
    Placed,
    #[sea_orm(string_value = "CONFIRMED")]
    Confirmed,
    #[sea_orm(string_value = "PACKED")]
    Packed,
    #[sea_orm(string_value = "SHIPPED")]
    Shipped,
    #[sea_orm(string_value = "DELIVERED")]
    Delivered,
    /// The held amount is released to the vendor (less commission).
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    #[sea_orm(string_value = "REFUNDED")]
    Refunded,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Human-friendly: `KW-2026-000123`.
    #[sea_orm(unique)]
    pub number: String,
    pub buyer_id: Uuid,
    pub vendor_id: Uuid,
    pub status: OrderStatus,
    /// Sum of the line totals, in paise.
    pub subtotal: i64,
    /// The platform's commission on `total`, frozen at placement, in paise.
    pub commission: i64,
    pub commission_bps: i32,
    /// What the buyer pays (held at placement), in paise.
    pub total: i64,
    pub hold_id: Uuid,
    /// The saved address it was placed with (the snapshot below is what counts).
    pub address_id: Option<Uuid>,
    pub address_label: String,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub address_city: String,
    pub address_state: String,
    pub address_pincode: String,
    pub address_latitude: f64,
    pub address_longitude: f64,
    pub note: Option<String>,
    /// Unique per buyer.
    pub idempotency_key: String,
    /// Hash of the request, so a replayed key with a different request is refused.
    pub request_hash: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
