//! `pickup_status_history`: every status a pickup entered, who moved it and why. Append-only.

use sea_orm::entity::prelude::*;

use crate::pickups::PickupStatus;

/// Who moved a pickup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PickupActor {
    #[sea_orm(string_value = "HOUSEHOLD")]
    Household,
    #[sea_orm(string_value = "VENDOR")]
    Vendor,
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    /// Jobs (offers that ran out).
    #[sea_orm(string_value = "SYSTEM")]
    System,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pickup_status_history")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub pickup_id: Uuid,
    /// `None` for the booking.
    pub from_status: Option<PickupStatus>,
    pub status: PickupStatus,
    pub note: Option<String>,
    pub actor: PickupActor,
    pub actor_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
