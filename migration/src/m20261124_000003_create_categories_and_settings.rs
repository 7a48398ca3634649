//! The category tree and the system settings table.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("categories")
                    .col(pk_uuid("id"))
                    .col(uuid_null("parent_id"))
                    .col(string("name"))
                    .col(string_uniq("slug"))
                    .col(string_null("icon_url"))
                    .col(integer("sort_order"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("categories", "parent_id")
                            .to("categories", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_categories_parent")
                    .table("categories")
                    .col("parent_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("system_settings")
                    .col(string("key").primary_key())
                    .col(text("value"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("system_settings").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("categories").to_owned())
            .await
    }
}
