//! `pickup_rates`: the price per kg a city pays for one material (a category), from a moment on.
//! Versioned rows, never edited: the rate at an instant is the newest row effective by then.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pickup_rates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The city as the admin wrote it.
    pub city: String,
    /// The city trimmed and lower-cased: what lookups compare.
    pub city_key: String,
    pub category_id: Uuid,
    /// Paise per kilogram, > 0.
    pub price_per_kg: i64,
    pub effective_from: DateTimeUtc,
    /// The admin who set it.
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
