//! A lease token on jobs: each claim writes a fresh one, and only the worker that holds it may
//! settle the job, so a worker whose lease ran out (and whose job another worker re-claimed)
//! cannot mark it done or failed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("jobs")
                    .add_column(uuid_null("lease_token"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("jobs")
                    .drop_column("lease_token")
                    .to_owned(),
            )
            .await
    }
}
