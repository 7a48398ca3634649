//! Payouts for households too: a payout belongs to a user (`payouts.user_id`, backfilled from
//! the vendor's user) and draws from a `source`, a vendor's EARNINGS (as before, `vendor_id`
//! set) or the user's WALLET (`vendor_id` null); a CHECK keeps the two in step. The idempotency
//! key becomes unique per user instead of per vendor (a vendor has one user, so no existing pair
//! collides), and a user's payouts are listed newest first by an index.
//!
//! PostgreSQL changes the table in place. SQLite cannot change a column's nullability, so the
//! table is rebuilt (create new, copy, drop, rename) in one transaction; no table references
//! `payouts`, so the drop cascades into nothing.
//!
//! Down refuses while wallet payouts exist: their money moved through USER_PAYOUT_HELD ledger
//! accounts, and the ledger is append-only, so there is nothing to turn them back into.

use sea_orm::{DbBackend, FromQueryResult, Statement};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const ONE_SOURCE: &str =
    "(source IN ('EARNINGS', 'WALLET')) AND ((source = 'EARNINGS') = (vendor_id IS NOT NULL))";

fn restrict(from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, col)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// `payouts` as `table`: with a user and a source, or as it was before.
fn payouts(table: &'static str, with_sources: bool) -> TableCreateStatement {
    let mut create = Table::create();
    create.table(table).col(pk_uuid("id"));
    if with_sources {
        create
            .col(uuid("user_id"))
            .col(uuid_null("vendor_id"))
            .col(string_len("source", 16));
    } else {
        create.col(uuid("vendor_id"));
    }
    create
        .col(big_integer("amount").check(Expr::cust("amount > 0")))
        .col(string_len("status", 16))
        .col(string_len("idempotency_key", 128))
        .col(text_null("reason"))
        .col(string_null("reference"))
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
        .col(timestamp_with_time_zone_null("decided_at"))
        .col(timestamp_with_time_zone_null("paid_at"))
        .col(string_null("provider_payout_id"))
        .foreign_key(&mut restrict(table, "vendor_id", "vendors"));
    if with_sources {
        create
            .foreign_key(&mut restrict(table, "user_id", "users"))
            .check(Expr::cust(ONE_SOURCE));
    }
    create.to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table("payouts");
    for col in cols {
        index.col(*col);
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

async fn drop_index(manager: &SchemaManager<'_>, name: &str) -> Result<(), DbErr> {
    manager
        .drop_index(Index::drop().name(name).table("payouts").to_owned())
        .await
}

async fn sql(manager: &SchemaManager<'_>, statement: &str) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared(statement)
        .await
        .map(|_| ())
}

const COMMON: &str = "id, amount, status, idempotency_key, reason, reference, created_at, \
                      updated_at, decided_at, paid_at, provider_payout_id";

/// Rebuilds `payouts` on SQLite, with or without users and sources, and its indexes.
async fn rebuild_sqlite(manager: &SchemaManager<'_>, with_sources: bool) -> Result<(), DbErr> {
    manager
        .create_table(payouts("payouts_new", with_sources))
        .await?;
    let copy = if with_sources {
        format!(
            "INSERT INTO payouts_new (user_id, vendor_id, source, {COMMON}) \
             SELECT (SELECT v.user_id FROM vendors v WHERE v.id = payouts.vendor_id), vendor_id, \
               'EARNINGS', {COMMON} FROM payouts"
        )
    } else {
        format!(
            "INSERT INTO payouts_new (vendor_id, {COMMON}) SELECT vendor_id, {COMMON} FROM payouts"
        )
    };
    sql(manager, &copy).await?;
    manager
        .drop_table(Table::drop().table("payouts").to_owned())
        .await?;
    sql(manager, "ALTER TABLE payouts_new RENAME TO payouts").await?;
    index(manager, "idx_payouts_newest", &["created_at", "id"], false).await?;
    index(
        manager,
        "idx_payouts_provider_payout",
        &["provider_payout_id"],
        false,
    )
    .await?;
    if with_sources {
        user_indexes(manager).await
    } else {
        vendor_key_index(manager).await
    }
}

async fn user_indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    index(
        manager,
        "uq_payouts_user_idempotency",
        &["user_id", "idempotency_key"],
        true,
    )
    .await?;
    index(
        manager,
        "idx_payouts_user_newest",
        &["user_id", "created_at", "id"],
        false,
    )
    .await
}

async fn vendor_key_index(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    index(
        manager,
        "uq_payouts_vendor_idempotency",
        &["vendor_id", "idempotency_key"],
        true,
    )
    .await
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return rebuild_sqlite(manager, true).await;
        }
        for statement in [
            "ALTER TABLE payouts ADD COLUMN user_id uuid NULL",
            "UPDATE payouts SET user_id = (SELECT v.user_id FROM vendors v WHERE v.id = payouts.vendor_id)",
            "ALTER TABLE payouts ALTER COLUMN user_id SET NOT NULL",
            "ALTER TABLE payouts ADD CONSTRAINT fk_payouts_user FOREIGN KEY (user_id) \
             REFERENCES users (id) ON DELETE RESTRICT",
            "ALTER TABLE payouts ADD COLUMN source varchar(16) NOT NULL DEFAULT 'EARNINGS'",
            "ALTER TABLE payouts ALTER COLUMN source DROP DEFAULT",
            "ALTER TABLE payouts ALTER COLUMN vendor_id DROP NOT NULL",
        ] {
            sql(manager, statement).await?;
        }
        sql(
            manager,
            &format!("ALTER TABLE payouts ADD CONSTRAINT chk_payouts_source CHECK ({ONE_SOURCE})"),
        )
        .await?;
        drop_index(manager, "uq_payouts_vendor_idempotency").await?;
        user_indexes(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let wallet_payouts = Count::find_by_statement(Statement::from_string(
            backend,
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM payouts WHERE source <> 'EARNINGS'",
        ))
        .one(manager.get_connection())
        .await?
        .map_or(0, |c| c.n);
        if wallet_payouts > 0 {
            return Err(DbErr::Migration(format!(
                "{wallet_payouts} wallet payouts exist; their money moved through USER_PAYOUT_HELD \
                 ledger accounts, which the older schema cannot describe"
            )));
        }
        if backend != DbBackend::Postgres {
            return rebuild_sqlite(manager, false).await;
        }
        drop_index(manager, "idx_payouts_user_newest").await?;
        drop_index(manager, "uq_payouts_user_idempotency").await?;
        vendor_key_index(manager).await?;
        for statement in [
            "ALTER TABLE payouts DROP CONSTRAINT chk_payouts_source",
            "ALTER TABLE payouts ALTER COLUMN vendor_id SET NOT NULL",
            "ALTER TABLE payouts DROP COLUMN source",
            "ALTER TABLE payouts DROP COLUMN user_id",
        ] {
            sql(manager, statement).await?;
        }
        Ok(())
    }
}
