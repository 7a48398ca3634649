//! `audit_log`: one row per admin action (from the console or GraphQL), written in the same
//! transaction as the change it records. Rows are only ever inserted: nothing updates or deletes
//! them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .col(pk_uuid("id"))
                    .col(uuid_null("actor_id"))
                    .col(string_len("action", 64))
                    .col(string_len("subject_type", 32))
                    .col(string_len("subject_id", 128))
                    .col(text_null("reason"))
                    .col(json_null("before"))
                    .col(json_null("after"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_audit_log_created", None),
            ("ix_audit_log_actor", Some("actor_id")),
            ("ix_audit_log_subject", Some("subject_id")),
            ("ix_audit_log_action", Some("action")),
        ] {
            let mut index = Index::create().name(name).table("audit_log").to_owned();
            if let Some(col) = col {
                index.col(col);
            }
            index.col("created_at");
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("audit_log").to_owned())
            .await
    }
}
