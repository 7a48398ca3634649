//! The wallet ledger: accounts, immutable transfers, escrow holds, recharges, webhook events.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("ledger_accounts")
                    .col(pk_uuid("id"))
                    .col(string_len("kind", 24))
                    .col(uuid("owner_id"))
                    .col(string_len("currency", 3))
                    .col(big_integer("balance"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_ledger_accounts_owner_kind")
                    .table("ledger_accounts")
                    .col("owner_id")
                    .col("kind")
                    .col("currency")
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("ledger_transfers")
                    .col(big_pk_auto("id"))
                    .col(uuid("debit_account_id"))
                    .col(uuid("credit_account_id"))
                    .col(big_integer("amount").check(Expr::col("amount").gt(0)))
                    .col(string_len("kind", 16))
                    .col(string("reference"))
                    .col(string_null("idempotency_key").unique_key())
                    .col(uuid_null("hold_id"))
                    .col(big_integer("debit_balance_after"))
                    .col(big_integer("credit_balance_after"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("ledger_transfers", "debit_account_id")
                            .to("ledger_accounts", "id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("ledger_transfers", "credit_account_id")
                            .to("ledger_accounts", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        for column in ["debit_account_id", "credit_account_id"] {
            manager
                .create_index(
                    Index::create()
                        .name(format!("idx_ledger_transfers_{column}"))
                        .table("ledger_transfers")
                        .col(column)
                        .col("id")
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("holds")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(big_integer("amount").check(Expr::col("amount").gt(0)))
                    .col(string_len("status", 16))
                    .col(string("reference"))
                    .col(big_integer("released_amount"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("settled_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_holds_user_status")
                    .table("holds")
                    .col("user_id")
                    .col("status")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("recharges")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(big_integer("amount").check(Expr::col("amount").gt(0)))
                    .col(string_len("status", 16))
                    .col(string_len("provider", 32))
                    .col(string("idempotency_key"))
                    .col(string_null("failure_reason"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("recharges", "user_id")
                            .to("users", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_recharges_user_key")
                    .table("recharges")
                    .col("user_id")
                    .col("idempotency_key")
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("webhook_events")
                    .col(pk_uuid("id"))
                    .col(string_len("provider", 32))
                    .col(string("event_id"))
                    .col(string("event_type"))
                    .col(string("outcome"))
                    .col(timestamp_with_time_zone("received_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_webhook_events_provider_event")
                    .table("webhook_events")
                    .col("provider")
                    .col("event_id")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "webhook_events",
            "recharges",
            "holds",
            "ledger_transfers",
            "ledger_accounts",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
