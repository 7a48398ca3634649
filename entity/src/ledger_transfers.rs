//! `ledger_transfers`: immutable movements of money between two ledger accounts. Corrections
//! are new transfers, never edits.

use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum TransferKind {
    #[sea_orm(string_value = "RECHARGE")]
    Recharge,
    #[sea_orm(string_value = "HOLD")]
    Hold,
    #[sea_orm(string_value = "RELEASE")]
    Release,
    #[sea_orm(string_value = "REFUND")]
    Refund,
    #[sea_orm(string_value = "DEDUCT")]
    Deduct,
    #[sea_orm(string_value = "PAYOUT")]
    Payout,
    #[sea_orm(string_value = "COMMISSION")]
    Commission,
    #[sea_orm(string_value = "ADJUSTMENT")]
    Adjustment,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_transfers")]
pub struct Model {
    /// Monotonic: also the order of history and the pagination key.
    #[sea_orm(primary_key)]
    pub id: i64,
    pub debit_account_id: Uuid,
    pub credit_account_id: Uuid,
    /// Always > 0, in paise.
    pub amount: i64,
    pub kind: TransferKind,
    /// What caused it: `recharge:<id>`, `hold:<id>`, `order:<id>`, …
    pub reference: String,
    /// Unique when set: replaying it moves nothing.
    pub idempotency_key: Option<String>,
    pub hold_id: Option<Uuid>,
    pub debit_balance_after: i64,
    pub credit_balance_after: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
