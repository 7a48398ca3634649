//! Schema migrations, one file per change, applied in order. A landed migration is never edited:
//! a change to the schema is a new migration.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_accounts;
mod m20261124_000002_create_addresses;
mod m20261124_000003_create_categories_and_settings;
mod m20261124_000004_create_jobs;
mod m20261124_000005_create_ledger;
mod m20261125_000001_create_vendors_and_products;
mod m20261125_000100_create_orders;
mod m20261125_000200_create_schedule_runs_and_reports;
mod m20261125_000300_create_chat;
mod m20261130_000100_add_jobs_lease_token;
mod m20261130_000300_add_products_rating_index;
mod m20261201_000101_add_payment_providers;
mod m20261201_000201_create_audit_log;
mod m20261201_000202_create_admin_sessions;
mod m20261201_000301_create_pickups;
mod m20261202_000101_add_chat_rooms_pickup;
mod m20261203_000101_add_payout_sources;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_accounts::Migration),
            Box::new(m20261124_000002_create_addresses::Migration),
            Box::new(m20261124_000003_create_categories_and_settings::Migration),
            Box::new(m20261124_000004_create_jobs::Migration),
            Box::new(m20261124_000005_create_ledger::Migration),
            Box::new(m20261125_000001_create_vendors_and_products::Migration),
            Box::new(m20261125_000100_create_orders::Migration),
            Box::new(m20261125_000200_create_schedule_runs_and_reports::Migration),
            Box::new(m20261125_000300_create_chat::Migration),
            Box::new(m20261130_000100_add_jobs_lease_token::Migration),
            Box::new(m20261130_000300_add_products_rating_index::Migration),
            Box::new(m20261201_000101_add_payment_providers::Migration),
            Box::new(m20261201_000201_create_audit_log::Migration),
            Box::new(m20261201_000202_create_admin_sessions::Migration),
            Box::new(m20261201_000301_create_pickups::Migration),
            Box::new(m20261202_000101_add_chat_rooms_pickup::Migration),
            Box::new(m20261203_000101_add_payout_sources::Migration),
        ]
    }
}
