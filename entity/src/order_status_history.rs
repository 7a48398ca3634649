//! `order_status_history`: every status an order entered, who moved it and why. Append-only.

use sea_orm::entity::prelude::*;

use crate::orders::OrderStatus;

/// Who moved an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum OrderActor {
    #[sea_orm(string_value = "BUYER")]
    Buyer,
    #[sea_orm(string_value = "VENDOR")]
    Vendor,
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    /// Scheduled jobs (the automatic release of delivered orders).
    #[sea_orm(string_value = "SYSTEM")]
    System,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "order_status_history")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    /// `None` for the placement.
    pub from_status: Option<OrderStatus>,
    pub status: OrderStatus,
    pub note: Option<String>,
    pub actor: OrderActor,
    /// The user who acted; `None` for the system.
    pub actor_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
