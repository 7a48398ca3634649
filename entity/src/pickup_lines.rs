//! `pickup_lines`: what the scale said, per material, priced at the locked rate. Replaced as a
//! whole when an admin resolves a dispute with corrected weights.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pickup_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub pickup_id: Uuid,
    pub category_id: Uuid,
    pub position: i32,
    pub weight_grams: i64,
    pub price_per_kg: i64,
    /// round(weight_grams × price_per_kg / 1000), in paise.
    pub amount: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
