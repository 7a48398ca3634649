//! Order chat: one room per order (`chat_rooms.order_id` is unique, so two racing
//! `createChatRoom` calls end with one room), its messages, and each participant's read position
//! (`chat_reads`, one row per room and user: a read receipt is "read up to this instant").

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("chat_rooms")
                    .col(pk_uuid("id"))
                    .col(uuid_uniq("order_id"))
                    .col(timestamp_with_time_zone_null("last_message_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from("chat_rooms", "order_id")
                            .to("orders", "id")
                            .on_delete(ForeignKeyAction::Restrict)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("chat_messages")
                    .col(pk_uuid("id"))
                    .col(uuid("room_id"))
                    .col(uuid("sender_id"))
                    .col(text("body"))
                    .col(string_null("attachment_key"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from("chat_messages", "room_id")
                            .to("chat_rooms", "id")
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from("chat_messages", "sender_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Restrict)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_chat_messages_room_created")
                    .table("chat_messages")
                    .col("room_id")
                    .col("created_at")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("chat_reads")
                    .col(uuid("room_id"))
                    .col(uuid("user_id"))
                    .col(timestamp_with_time_zone("last_read_at"))
                    .primary_key(Index::create().col("room_id").col("user_id"))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from("chat_reads", "room_id")
                            .to("chat_rooms", "id")
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from("chat_reads", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["chat_reads", "chat_messages", "chat_rooms"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
