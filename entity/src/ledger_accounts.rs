//! `ledger_accounts`: one row per account of the double-entry ledger. `balance` is credits minus
//! debits; it changes only together with a `ledger_transfers` row, in the same transaction.

use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum AccountKind {
    /// A user's spendable wallet balance.
    #[sea_orm(string_value = "USER_AVAILABLE")]
    UserAvailable,
    /// A user's money held in escrow for orders.
    #[sea_orm(string_value = "USER_HELD")]
    UserHeld,
    /// A vendor's earnings, available for payout.
    #[sea_orm(string_value = "VENDOR_EARNINGS")]
    VendorEarnings,
    /// A vendor's earnings reserved by a payout request.
    #[sea_orm(string_value = "VENDOR_PAYOUT_HELD")]
    VendorPayoutHeld,
    /// A user's wallet money reserved by a wallet payout request (never escrow: that is
    /// USER_HELD, which must equal the user's open holds).
    #[sea_orm(string_value = "USER_PAYOUT_HELD")]
    UserPayoutHeld,
    /// Commission the platform earned.
    #[sea_orm(string_value = "PLATFORM_REVENUE")]
    PlatformRevenue,
    /// Support adjustments (goodwill credits, corrections); may go negative.
    #[sea_orm(string_value = "PLATFORM_ADJUSTMENTS")]
    PlatformAdjustments,
    /// Money in transit with the payment provider; goes negative as money enters the platform.
    #[sea_orm(string_value = "PROVIDER_CLEARING")]
    ProviderClearing,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: AccountKind,
    /// The user or vendor the account belongs to; the nil UUID for platform accounts.
    pub owner_id: Uuid,
    pub currency: String,
    pub balance: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
