//! `holds`: escrow holds on a user's wallet. A hold is settled (released or voided) exactly once.

use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum HoldStatus {
    #[sea_orm(string_value = "HELD")]
    Held,
    #[sea_orm(string_value = "RELEASED")]
    Released,
    #[sea_orm(string_value = "VOIDED")]
    Voided,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "holds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub amount: i64,
    pub status: HoldStatus,
    pub reference: String,
    /// Of a release: what went to the payee (the rest of the hold, if any, was voided).
    pub released_amount: i64,
    pub created_at: DateTimeUtc,
    pub settled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
