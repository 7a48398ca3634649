//! A chat room per pickup: `chat_rooms.order_id` becomes nullable and `chat_rooms.pickup_id`
//! (unique, referencing `pickups`) joins it; a CHECK keeps exactly one of the two set, so every
//! room is about one order or one pickup.
//!
//! PostgreSQL changes the table in place. SQLite cannot change a column's nullability, so the
//! table is rebuilt (create new, copy, drop, rename). Dropping a table runs an implicit
//! `DELETE` that cascades into the tables referencing it while foreign keys are on, and the
//! pragma that turns them off is a no-op inside a transaction; so `chat_messages` and
//! `chat_reads` are set aside in plain copies, dropped and recreated around the rebuild, all in
//! one transaction (`use_transaction`), so a failure leaves the old tables untouched.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const ONE_SUBJECT: &str = "(order_id IS NULL) <> (pickup_id IS NULL)";

fn restrict(from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
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

/// `chat_rooms` as `table`: with a pickup column (and the CHECK), or as it was before.
fn rooms(table: &'static str, with_pickups: bool) -> TableCreateStatement {
    let mut create = Table::create();
    create.table(table).col(pk_uuid("id"));
    if with_pickups {
        create
            .col(uuid_null("order_id").unique_key())
            .col(uuid_null("pickup_id").unique_key());
    } else {
        create.col(uuid_uniq("order_id"));
    }
    create
        .col(timestamp_with_time_zone_null("last_message_at"))
        .col(timestamp_with_time_zone("created_at"))
        .foreign_key(&mut restrict(table, "order_id", "orders"));
    if with_pickups {
        create
            .foreign_key(&mut restrict(table, "pickup_id", "pickups"))
            .check(Expr::cust(ONE_SUBJECT));
    }
    create.to_owned()
}

/// `chat_messages` and `chat_reads` as `m20261125_000300_create_chat` made them.
fn messages() -> TableCreateStatement {
    Table::create()
        .table("chat_messages")
        .col(pk_uuid("id"))
        .col(uuid("room_id"))
        .col(uuid("sender_id"))
        .col(text("body"))
        .col(string_null("attachment_key"))
        .col(timestamp_with_time_zone("created_at"))
        .foreign_key(&mut cascade("chat_messages", "room_id", "chat_rooms"))
        .foreign_key(&mut restrict("chat_messages", "sender_id", "users"))
        .to_owned()
}

fn reads() -> TableCreateStatement {
    Table::create()
        .table("chat_reads")
        .col(uuid("room_id"))
        .col(uuid("user_id"))
        .col(timestamp_with_time_zone("last_read_at"))
        .primary_key(Index::create().col("room_id").col("user_id"))
        .foreign_key(&mut cascade("chat_reads", "room_id", "chat_rooms"))
        .foreign_key(&mut cascade("chat_reads", "user_id", "users"))
        .to_owned()
}

async fn sql(manager: &SchemaManager<'_>, statement: &str) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared(statement)
        .await
        .map(|_| ())
}

/// Rebuilds the three chat tables on SQLite, `chat_rooms` with or without its pickup column
/// (rooms of pickups must be gone before a rebuild without it).
async fn rebuild_sqlite(manager: &SchemaManager<'_>, with_pickups: bool) -> Result<(), DbErr> {
    let copied = if with_pickups {
        "id, order_id, NULL, last_message_at, created_at"
    } else {
        "id, order_id, last_message_at, created_at"
    };
    manager
        .create_table(rooms("chat_rooms_new", with_pickups))
        .await?;
    sql(
        manager,
        &format!("INSERT INTO chat_rooms_new SELECT {copied} FROM chat_rooms"),
    )
    .await?;
    sql(
        manager,
        "CREATE TABLE chat_messages_copy AS SELECT * FROM chat_messages",
    )
    .await?;
    sql(
        manager,
        "CREATE TABLE chat_reads_copy AS SELECT * FROM chat_reads",
    )
    .await?;
    // Children first: with them gone, dropping `chat_rooms` cascades into nothing.
    for table in ["chat_reads", "chat_messages", "chat_rooms"] {
        manager
            .drop_table(Table::drop().table(table).to_owned())
            .await?;
    }
    sql(manager, "ALTER TABLE chat_rooms_new RENAME TO chat_rooms").await?;
    manager.create_table(messages()).await?;
    manager.create_table(reads()).await?;
    sql(
        manager,
        "INSERT INTO chat_messages (id, room_id, sender_id, body, attachment_key, created_at) \
         SELECT id, room_id, sender_id, body, attachment_key, created_at FROM chat_messages_copy",
    )
    .await?;
    sql(
        manager,
        "INSERT INTO chat_reads (room_id, user_id, last_read_at) \
         SELECT room_id, user_id, last_read_at FROM chat_reads_copy",
    )
    .await?;
    for table in ["chat_messages_copy", "chat_reads_copy"] {
        manager
            .drop_table(Table::drop().table(table).to_owned())
            .await?;
    }
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
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DbBackend::Postgres {
            return rebuild_sqlite(manager, true).await;
        }
        for statement in [
            "ALTER TABLE chat_rooms ALTER COLUMN order_id DROP NOT NULL",
            "ALTER TABLE chat_rooms ADD COLUMN pickup_id uuid NULL",
            "ALTER TABLE chat_rooms ADD CONSTRAINT uq_chat_rooms_pickup UNIQUE (pickup_id)",
            "ALTER TABLE chat_rooms ADD CONSTRAINT fk_chat_rooms_pickup FOREIGN KEY (pickup_id) \
             REFERENCES pickups (id) ON DELETE RESTRICT",
        ] {
            sql(manager, statement).await?;
        }
        sql(
            manager,
            &format!(
                "ALTER TABLE chat_rooms ADD CONSTRAINT chk_chat_rooms_one_subject CHECK ({ONE_SUBJECT})"
            ),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Rooms of pickups have nowhere to go (their messages and reads cascade with them).
        sql(
            manager,
            "DELETE FROM chat_rooms WHERE pickup_id IS NOT NULL",
        )
        .await?;
        if manager.get_database_backend() != sea_orm::DbBackend::Postgres {
            return rebuild_sqlite(manager, false).await;
        }
        for statement in [
            "ALTER TABLE chat_rooms DROP CONSTRAINT chk_chat_rooms_one_subject",
            "ALTER TABLE chat_rooms DROP COLUMN pickup_id",
            "ALTER TABLE chat_rooms ALTER COLUMN order_id SET NOT NULL",
        ] {
            sql(manager, statement).await?;
        }
        Ok(())
    }
}
