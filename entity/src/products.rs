//! `products`: a vendor's scrap lots. `deleted_at` is a soft delete (orders keep pointing at the
//! row); `rating` and `review_count` are kept in step with `reviews` in the same transaction.

use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum Unit {
    #[sea_orm(string_value = "KG")]
    Kg,
    #[sea_orm(string_value = "PIECE")]
    Piece,
    #[sea_orm(string_value = "LITRE")]
    Litre,
    #[sea_orm(string_value = "TONNE")]
    Tonne,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub category_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub unit: Unit,
    /// Unit price in paise.
    pub price: i64,
    pub stock: i32,
    pub is_active: bool,
    /// Average review rating (0 without reviews). A score, not money.
    pub rating: f64,
    pub review_count: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
