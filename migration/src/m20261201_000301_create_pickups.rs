//! Doorstep pickups: city rate cards (versioned rows), vendors' pickup slots (a conditional
//! `remaining` counter), pickups with their estimated items (rates locked at booking), weighed
//! lines, status history, offers to nearby vendors, reviews of the collector, and the
//! pickup-number sequence (a PostgreSQL sequence; on SQLite a row of `counters`).

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

fn cascade(from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, col)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Cascade)
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
            .get_connection()
            .execute_unprepared("INSERT INTO counters (name, value) VALUES ('pickup_number', 0)")
            .await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("CREATE SEQUENCE pickup_number_seq")
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("pickup_rates")
                    .col(pk_uuid("id"))
                    .col(string_len("city", 100))
                    .col(string_len("city_key", 100))
                    .col(uuid("category_id"))
                    .col(big_integer("price_per_kg").check(Expr::cust("price_per_kg > 0")))
                    .col(timestamp_with_time_zone("effective_from"))
                    .col(uuid_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("pickup_rates", "category_id", "categories"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_pickup_rates_lookup",
            "pickup_rates",
            &["city_key", "category_id", "effective_from"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("pickup_slots")
                    .col(pk_uuid("id"))
                    .col(uuid("vendor_id"))
                    .col(timestamp_with_time_zone("starts_at"))
                    .col(timestamp_with_time_zone("ends_at"))
                    .col(integer("capacity").check(Expr::cust("capacity > 0")))
                    .col(
                        integer("remaining")
                            .check(Expr::cust("remaining >= 0 AND remaining <= capacity")),
                    )
                    .col(timestamp_with_time_zone_null("removed_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("pickup_slots", "vendor_id", "vendors"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_pickup_slots_vendor",
            "pickup_slots",
            &["vendor_id", "starts_at"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_pickup_slots_start",
            "pickup_slots",
            &["starts_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("pickups")
                    .col(pk_uuid("id"))
                    .col(string_len_uniq("number", 32))
                    .col(uuid("household_id"))
                    .col(uuid_null("vendor_id"))
                    .col(uuid_null("slot_id"))
                    .col(string_len("status", 16))
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
                    .col(big_integer("quote").check(Expr::cust("quote > 0")))
                    .col(uuid_null("hold_id"))
                    .col(big_integer_null("final_amount"))
                    .col(big_integer_null("commission"))
                    .col(integer_null("commission_bps"))
                    .col(string_len_null("handover_code", 16))
                    .col(integer("code_attempts").default(0))
                    .col(string_null("weighing_photo_key"))
                    .col(integer("offer_round").default(0))
                    .col(timestamp_with_time_zone_null("offer_expires_at"))
                    .col(double_null("collector_latitude"))
                    .col(double_null("collector_longitude"))
                    .col(timestamp_with_time_zone_null("located_at"))
                    .col(text_null("dispute_reason"))
                    .col(text_null("cancel_reason"))
                    .col(string_len("idempotency_key", 128))
                    .col(string_len("request_hash", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("weighed_at"))
                    .col(timestamp_with_time_zone_null("completed_at"))
                    .foreign_key(&mut fk("pickups", "household_id", "users"))
                    .foreign_key(&mut fk("pickups", "vendor_id", "vendors"))
                    .foreign_key(&mut fk("pickups", "slot_id", "pickup_slots"))
                    .foreign_key(&mut fk("pickups", "hold_id", "holds"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_pickups_household_idempotency",
            "pickups",
            &["household_id", "idempotency_key"],
            true,
        )
        .await?;
        index(
            manager,
            "idx_pickups_household",
            "pickups",
            &["household_id", "created_at"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_pickups_vendor",
            "pickups",
            &["vendor_id", "created_at"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_pickups_newest",
            "pickups",
            &["created_at", "id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("pickup_items")
                    .col(pk_uuid("id"))
                    .col(uuid("pickup_id"))
                    .col(uuid("category_id"))
                    .col(integer("position"))
                    .col(big_integer("estimated_grams").check(Expr::cust("estimated_grams > 0")))
                    .col(big_integer("price_per_kg").check(Expr::cust("price_per_kg > 0")))
                    .col(uuid("rate_id"))
                    .foreign_key(&mut cascade("pickup_items", "pickup_id", "pickups"))
                    .foreign_key(&mut fk("pickup_items", "category_id", "categories"))
                    .foreign_key(&mut fk("pickup_items", "rate_id", "pickup_rates"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_pickup_items_pickup",
            "pickup_items",
            &["pickup_id", "position"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("pickup_lines")
                    .col(pk_uuid("id"))
                    .col(uuid("pickup_id"))
                    .col(uuid("category_id"))
                    .col(integer("position"))
                    .col(big_integer("weight_grams").check(Expr::cust("weight_grams > 0")))
                    .col(big_integer("price_per_kg").check(Expr::cust("price_per_kg > 0")))
                    .col(big_integer("amount").check(Expr::cust("amount >= 0")))
                    .foreign_key(&mut cascade("pickup_lines", "pickup_id", "pickups"))
                    .foreign_key(&mut fk("pickup_lines", "category_id", "categories"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_pickup_lines_pickup",
            "pickup_lines",
            &["pickup_id", "position"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("pickup_status_history")
                    .col(pk_uuid("id"))
                    .col(uuid("pickup_id"))
                    .col(string_len_null("from_status", 16))
                    .col(string_len("status", 16))
                    .col(text_null("note"))
                    .col(string_len("actor", 16))
                    .col(uuid_null("actor_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut cascade(
                        "pickup_status_history",
                        "pickup_id",
                        "pickups",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_pickup_history_pickup",
            "pickup_status_history",
            &["pickup_id", "created_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("pickup_offers")
                    .col(pk_uuid("id"))
                    .col(uuid("pickup_id"))
                    .col(uuid("vendor_id"))
                    .col(integer("round"))
                    .col(double("distance_km"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .foreign_key(&mut cascade("pickup_offers", "pickup_id", "pickups"))
                    .foreign_key(&mut fk("pickup_offers", "vendor_id", "vendors"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_pickup_offers_pickup_vendor",
            "pickup_offers",
            &["pickup_id", "vendor_id"],
            true,
        )
        .await?;
        index(
            manager,
            "idx_pickup_offers_vendor",
            "pickup_offers",
            &["vendor_id", "created_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("pickup_reviews")
                    .col(pk_uuid("id"))
                    .col(uuid_uniq("pickup_id"))
                    .col(uuid("vendor_id"))
                    .col(uuid("household_id"))
                    .col(integer("rating").check(Expr::cust("rating BETWEEN 1 AND 5")))
                    .col(text_null("comment"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut cascade("pickup_reviews", "pickup_id", "pickups"))
                    .foreign_key(&mut fk("pickup_reviews", "vendor_id", "vendors"))
                    .foreign_key(&mut fk("pickup_reviews", "household_id", "users"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_pickup_reviews_vendor",
            "pickup_reviews",
            &["vendor_id", "created_at"],
            false,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "pickup_reviews",
            "pickup_offers",
            "pickup_status_history",
            "pickup_lines",
            "pickup_items",
            "pickups",
            "pickup_slots",
            "pickup_rates",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP SEQUENCE pickup_number_seq")
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM counters WHERE name = 'pickup_number'")
            .await?;
        Ok(())
    }
}
