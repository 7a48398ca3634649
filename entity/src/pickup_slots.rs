//! `pickup_slots`: a vendor's published pickup windows. `remaining` is a conditional counter
//! (taken only while > 0, like stock), so a slot never takes more bookings than its capacity.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pickup_slots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub capacity: i32,
    /// Bookings it can still take: 0..=capacity.
    pub remaining: i32,
    /// Set when the vendor removed it (it takes no more bookings; booked pickups keep it).
    pub removed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
