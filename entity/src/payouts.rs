//! `payouts`: a user's request to be paid, drawn from one of two sources (`source`): a vendor's
//! earnings (`vendor_id` set) or the user's available wallet balance (a household paid for its
//! scrap; `vendor_id` null); a CHECK keeps the two in step. While REQUESTED, APPROVED or
//! PROCESSING (sent to RazorpayX) the amount sits in the source's payout-held ledger account
//! (VENDOR_PAYOUT_HELD or USER_PAYOUT_HELD); REJECTED returns it to the source, PAID sends it to
//! the payment provider, REVERSED (the provider failed, rejected or reversed it) returns it to
//! the source.

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

/// Where a payout's money comes from (and goes back to when it is rejected or reversed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PayoutSource {
    /// A vendor's earnings (VENDOR_EARNINGS).
    #[sea_orm(string_value = "EARNINGS")]
    Earnings,
    /// The user's available wallet balance (USER_AVAILABLE).
    #[sea_orm(string_value = "WALLET")]
    Wallet,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "payouts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The user being paid (for an earnings payout, the vendor's user).
    pub user_id: Uuid,
    /// The vendor whose earnings are paid out; None for a wallet payout.
    pub vendor_id: Option<Uuid>,
    pub source: PayoutSource,
    /// In paise.
    pub amount: i64,
    pub status: PayoutStatus,
    /// Unique per user.
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
