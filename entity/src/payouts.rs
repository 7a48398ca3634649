//! `payouts`: a vendor's request to be paid its earnings. While REQUESTED or APPROVED the amount
//! sits in the vendor's payout-held ledger account, and while PROCESSING (sent to RazorpayX);
//! REJECTED returns it to earnings, PAID sends it to the payment provider, REVERSED (the provider
//! failed, rejected or reversed it) returns it to earnings.

use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PayoutStatus {
    #[sea_orm(string_value = "REQUESTED")]
    Requested,
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
    #[sea_orm(string_value = "PAID")]
    Paid,
    #[sea_orm(string_value = "PROCESSING")]
    Processing,
    #[sea_orm(string_value = "REVERSED")]
    Reversed,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "payouts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub vendor_id: Uuid,
    /// In paise.
    pub amount: i64,
    pub status: PayoutStatus,
    /// Unique per vendor.
    pub idempotency_key: String,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The bank or provider reference of the payment.
    pub reference: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
    pub paid_at: Option<DateTimeUtc>,
    /// The provider's payout id (RazorpayX `pout_…`) once it was sent.
    pub provider_payout_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
