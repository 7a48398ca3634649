//! `product_purchases`: a buyer received this product (an order with it was delivered). The
//! orders domain writes it; a row entitles the buyer to review the product.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "product_purchases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub buyer_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: Uuid,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
