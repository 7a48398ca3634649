//! `admin_sessions`: the operators' console's cookie sessions (the API stays bearer-only). The
//! cookie holds a random token; only its SHA-256 is stored, with the form token (CSRF) of the
//! session and when it was last used (the idle timeout).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("admin_sessions")
                    .col(pk_uuid("id"))
                    .col(string_len("token_hash", 64).unique_key())
                    .col(uuid("user_id"))
                    .col(string_len("csrf_token", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("last_seen_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_admin_sessions_user")
                    .table("admin_sessions")
                    .col("user_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("admin_sessions").to_owned())
            .await
    }
}
