//! `chat_rooms`: one per order (created on demand) or per pickup (created when the pickup gets
//! its collector); exactly one of `order_id` and `pickup_id` is set (a CHECK in the database).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "chat_rooms")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub order_id: Option<Uuid>,
    #[sea_orm(unique)]
    pub pickup_id: Option<Uuid>,
    /// When the newest message was sent (rooms are listed by it).
    pub last_message_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
