//! Saved addresses, with at most one default per user.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("addresses")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(string("label"))
                    .col(string("line1"))
                    .col(string_null("line2"))
                    .col(string("city"))
                    .col(string("state"))
                    .col(string_len("pincode", 12))
                    .col(double_null("latitude"))
                    .col(double_null("longitude"))
                    .col(boolean("is_default"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("addresses", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_addresses_user")
                    .table("addresses")
                    .col("user_id")
                    .to_owned(),
            )
            .await?;
        // A partial unique index: the database itself refuses a second default address.
        // The same statement is valid on PostgreSQL and SQLite.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_addresses_one_default ON addresses (user_id) WHERE is_default",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("addresses").to_owned())
            .await
    }
}
