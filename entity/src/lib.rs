//! SeaORM entities, one module per table. Plain data: no GraphQL derives and no business rules
//! (those live in the server's domain services).

pub mod addresses;
pub mod admin_sessions;
pub mod audit_log;
pub mod categories;
pub mod chat_messages;
pub mod chat_reads;
pub mod chat_rooms;
pub mod counters;
pub mod daily_reports;
pub mod email_tokens;
pub mod holds;
pub mod jobs;
pub mod kyc_documents;
pub mod ledger_accounts;
pub mod ledger_transfers;
pub mod notifications;
pub mod order_items;
pub mod order_status_history;
pub mod orders;
pub mod otp_challenges;
pub mod payout_accounts;
pub mod payouts;
pub mod product_images;
pub mod product_purchases;
pub mod products;
pub mod recharges;
pub mod refresh_tokens;
pub mod reviews;
pub mod schedule_runs;
pub mod system_settings;
pub mod users;
pub mod vendors;
pub mod webhook_events;
pub mod wishlist_items;
