//! `daily_reports`: the platform's figures for one UTC day, written by the daily report job.
//! The figures are JSON so that a new figure needs no migration (old rows read it as zero).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "daily_reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The UTC day the figures are about.
    #[sea_orm(unique)]
    pub day: Date,
    pub figures: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
