//! Real payment rails: a recharge remembers the provider's order (Razorpay order, Stripe
//! PaymentIntent) and payment; a webhook event keeps its raw body, what it was about and when it
//! was processed (events are stored first and processed by a job); a payout remembers its
//! RazorpayX payout; `payout_accounts` holds where each user is paid.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite adds one column per ALTER TABLE, so each column is its own statement.
async fn add_column(
    manager: &SchemaManager<'_>,
    table: &'static str,
    column: ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).add_column(column).to_owned())
        .await
}

async fn drop_column(
    manager: &SchemaManager<'_>,
    table: &'static str,
    column: &'static str,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).drop_column(column).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            string_null("provider_order_id"),
            string_null("provider_payment_id"),
            text_null("client_secret"),
            timestamp_with_time_zone_null("settled_at"),
        ] {
            add_column(manager, "recharges", column).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_recharges_provider_order")
                    .table("recharges")
                    .col("provider")
                    .col("provider_order_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_recharges_status_created")
                    .table("recharges")
                    .col("status")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;

        for column in [
            text_null("payload"),
            text_null("detail"),
            uuid_null("subject_id"),
            timestamp_with_time_zone_null("processed_at"),
        ] {
            add_column(manager, "webhook_events", column).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_events_outcome")
                    .table("webhook_events")
                    .col("outcome")
                    .col("received_at")
                    .to_owned(),
            )
            .await?;

        add_column(manager, "payouts", string_null("provider_payout_id")).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_payouts_provider_payout")
                    .table("payouts")
                    .col("provider_payout_id")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("payout_accounts")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(string_len("kind", 8))
                    .col(string_null("vpa"))
                    .col(string_len_null("account_number_last4", 4))
                    .col(string_len_null("ifsc", 11))
                    .col(string_null("holder_name"))
                    .col(string_null("provider_contact_id"))
                    .col(string_null("provider_fund_account_id"))
                    .col(timestamp_with_time_zone_null("verified_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("payout_accounts", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_payout_accounts_user")
                    .table("payout_accounts")
                    .col("user_id")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("payout_accounts").to_owned())
            .await?;
        for (name, table) in [
            ("idx_payouts_provider_payout", "payouts"),
            ("idx_webhook_events_outcome", "webhook_events"),
            ("idx_recharges_status_created", "recharges"),
            ("idx_recharges_provider_order", "recharges"),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        drop_column(manager, "payouts", "provider_payout_id").await?;
        for column in ["processed_at", "subject_id", "detail", "payload"] {
            drop_column(manager, "webhook_events", column).await?;
        }
        for column in [
            "settled_at",
            "client_secret",
            "provider_payment_id",
            "provider_order_id",
        ] {
            drop_column(manager, "recharges", column).await?;
        }
        Ok(())
    }
}
