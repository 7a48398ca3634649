//! `order_items`: the lines of an order, with the product's name, unit and price frozen at
//! placement.

use sea_orm::entity::prelude::*;

use crate::products::Unit;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "order_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub product_id: Uuid,
    /// Display order within the order.
    pub position: i32,
    pub product_name: String,
    pub unit: Unit,
    pub quantity: i32,
    /// In paise, as listed when the order was placed.
    pub unit_price: i64,
    /// `unit_price * quantity`, in paise.
    pub line_total: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
