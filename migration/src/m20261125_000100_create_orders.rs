//! Orders with their lines and status history, vendor payouts, in-app notifications, and the
//! order-number sequence (a PostgreSQL sequence; on SQLite, which has a single writer, a row of
//! `counters` incremented inside the placing transaction).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, col)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(*col);
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("counters")
                    .col(string_len("name", 32).primary_key())
                    .col(big_integer("value"))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("INSERT INTO counters (name, value) VALUES ('order_number', 0)")
            .await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("CREATE SEQUENCE order_number_seq")
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("orders")
                    .col(pk_uuid("id"))
                    .col(string_len_uniq("number", 32))
                    .col(uuid("buyer_id"))
                    .col(uuid("vendor_id"))
                    .col(string_len("status", 16))
                    .col(big_integer("subtotal").check(Expr::cust("subtotal > 0")))
                    .col(big_integer("commission").check(Expr::cust("commission >= 0")))
                    .col(integer("commission_bps"))
                    .col(big_integer("total").check(Expr::cust("total > 0")))
                    .col(uuid("hold_id"))
                    .col(uuid_null("address_id"))
                    .col(string("address_label"))
                    .col(string("address_line1"))
                    .col(string_null("address_line2"))
                    .col(string("address_city"))
                    .col(string("address_state"))
                    .col(string_len("address_pincode", 12))
                    .col(double("address_latitude"))
                    .col(double("address_longitude"))
                    .col(text_null("note"))
                    .col(string_len("idempotency_key", 128))
                    .col(string_len("request_hash", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("delivered_at"))
                    .col(timestamp_with_time_zone_null("completed_at"))
                    .foreign_key(&mut fk("orders", "buyer_id", "users"))
                    .foreign_key(&mut fk("orders", "vendor_id", "vendors"))
                    .foreign_key(&mut fk("orders", "hold_id", "holds"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_orders_buyer_idempotency",
            "orders",
            &["buyer_id", "idempotency_key"],
            true,
        )
        .await?;
        index(
            manager,
            "idx_orders_buyer",
            "orders",
            &["buyer_id", "created_at"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_orders_vendor",
            "orders",
            &["vendor_id", "created_at"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_orders_newest",
            "orders",
            &["created_at", "id"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_orders_status_delivered",
            "orders",
            &["status", "delivered_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("order_items")
                    .col(pk_uuid("id"))
                    .col(uuid("order_id"))
                    .col(uuid("product_id"))
                    .col(integer("position"))
                    .col(string("product_name"))
                    .col(string_len("unit", 8))
                    .col(integer("quantity").check(Expr::cust("quantity > 0")))
                    .col(big_integer("unit_price").check(Expr::cust("unit_price > 0")))
                    .col(big_integer("line_total").check(Expr::cust("line_total > 0")))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from("order_items", "order_id")
                            .to("orders", "id")
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .foreign_key(&mut fk("order_items", "product_id", "products"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_order_items_order",
            "order_items",
            &["order_id", "position"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_order_items_product",
            "order_items",
            &["product_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("order_status_history")
                    .col(pk_uuid("id"))
                    .col(uuid("order_id"))
                    .col(string_len_null("from_status", 16))
                    .col(string_len("status", 16))
                    .col(text_null("note"))
                    .col(string_len("actor", 16))
                    .col(uuid_null("actor_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from("order_status_history", "order_id")
                            .to("orders", "id")
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_order_status_history_order",
            "order_status_history",
            &["order_id", "created_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("payouts")
                    .col(pk_uuid("id"))
                    .col(uuid("vendor_id"))
                    .col(big_integer("amount").check(Expr::cust("amount > 0")))
                    .col(string_len("status", 16))
                    .col(string_len("idempotency_key", 128))
                    .col(text_null("reason"))
                    .col(string_null("reference"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("decided_at"))
                    .col(timestamp_with_time_zone_null("paid_at"))
                    .foreign_key(&mut fk("payouts", "vendor_id", "vendors"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_payouts_vendor_idempotency",
            "payouts",
            &["vendor_id", "idempotency_key"],
            true,
        )
        .await?;
        index(
            manager,
            "idx_payouts_newest",
            "payouts",
            &["created_at", "id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("notifications")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(string_len("kind", 32))
                    .col(string("title"))
                    .col(text("body"))
                    .col(uuid_null("order_id"))
                    .col(timestamp_with_time_zone_null("read_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from("notifications", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_notifications_user",
            "notifications",
            &["user_id", "created_at"],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "notifications",
            "payouts",
            "order_status_history",
            "order_items",
            "orders",
            "counters",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP SEQUENCE IF EXISTS order_number_seq")
                .await?;
        }
        Ok(())
    }
}
