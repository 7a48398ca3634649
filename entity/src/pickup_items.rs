//! `pickup_items`: what a household says it has, with the rate locked at booking.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pickup_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub pickup_id: Uuid,
    pub category_id: Uuid,
    pub position: i32,
    /// The household's estimate, in grams.
    pub estimated_grams: i64,
    /// Paise per kg in force when the pickup was booked.
    pub price_per_kg: i64,
    pub rate_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
