//! `payout_accounts`: where a user (a vendor, or a household paid for its scrap) is paid: a UPI
//! VPA or a bank account, one per user. Only the last four digits of an account number are kept;
//! the full number went to the payout provider, which holds it as a fund account.

use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum PayoutAccountKind {
    #[sea_orm(string_value = "VPA")]
    Vpa,
    #[sea_orm(string_value = "BANK")]
    Bank,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "payout_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Unique: a user has one payout account; setting another replaces it.
    pub user_id: Uuid,
    pub kind: PayoutAccountKind,
    pub vpa: Option<String>,
    pub account_number_last4: Option<String>,
    pub ifsc: Option<String>,
    pub holder_name: Option<String>,
    /// RazorpayX contact (`cont_…`), when payouts go through RazorpayX.
    pub provider_contact_id: Option<String>,
    /// RazorpayX fund account (`fa_…`): what a payout is sent to.
    pub provider_fund_account_id: Option<String>,
    /// When the payout provider accepted it (None with manual payouts).
    pub verified_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
