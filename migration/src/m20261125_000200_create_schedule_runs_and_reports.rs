//! Scheduled work: `schedule_runs` (one row per schedule and slot, whose unique key makes a
//! firing happen once across every running instance) and `daily_reports` (one row per UTC day).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("schedule_runs")
                    .col(pk_uuid("id"))
                    .col(string_len("schedule", 64))
                    .col(timestamp_with_time_zone("slot_at"))
                    .col(uuid("job_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        // The claim: the second instance to insert (schedule, slot) inserts nothing and skips.
        manager
            .create_index(
                Index::create()
                    .name("uq_schedule_runs_schedule_slot")
                    .table("schedule_runs")
                    .col("schedule")
                    .col("slot_at")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("daily_reports")
                    .col(pk_uuid("id"))
                    .col(date("day").unique_key())
                    .col(json("figures"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("daily_reports").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("schedule_runs").to_owned())
            .await
    }
}
