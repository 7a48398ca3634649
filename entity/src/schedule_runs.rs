//! `schedule_runs`: one row per scheduled firing (schedule name, slot time), unique on both, so
//! that a firing is claimed by exactly one instance however many run the scheduler.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "schedule_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The schedule's name (`cleanup_expired_sessions`, …).
    pub schedule: String,
    /// The time the cron expression fired for (not the time an instance noticed it).
    pub slot_at: DateTimeUtc,
    /// The job enqueued for this firing.
    pub job_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
