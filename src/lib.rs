//! Kabaadwala: the backend of a hyperlocal scrap marketplace, served as one GraphQL API.
//!
//! - [`config`]: the one `Config`, read from the environment.
//! - [`app`]: `AppState` (database, pub/sub, mailer, config) and how it is built.
//! - [`cli`]: the subcommands (`serve`, `worker`, `migrate`, `setup-defaults`, …).
//! - [`demo`]: `seed-demo`, a realistic demo data set.
//! - [`batching`]: per-key queues whose workers take whatever is waiting.
//! - [`group_commit`]: the one group commit on those queues (orders, slot bookings).
//! - [`db`]: connecting, per-backend options and the database-error classification.
//! - [`error`]: `AppError`, the one error type, and its codes.
//! - [`http`]: the axum router, auth header → viewer, health, graceful shutdown.
//! - [`graphql`]: schema assembly, context, error-code extension, scalars, Relay helpers, loaders.
//! - [`auth`]: passwords, JWT access tokens, refresh-token rotation, OTP, emailed tokens.
//! - [`accounts`]: users' profiles and addresses; admins' work on accounts.
//! - [`audit`]: the audit log of every admin action (console or GraphQL).
//! - [`catalog`]: categories, products with images, search (text, price, nearby), reviews, wishlists.
//! - [`vendors`]: vendor profiles, KYC documents and their review, per-vendor commission.
//! - [`money`]: paise and how amounts are written (`₹1,00,000.00`).
//! - [`paging`]: keyset cursors and pages, the newest-first page over a table.
//! - [`geo`]: distances between coordinates.
//! - [`address`]: the postal address as entered, and its check.
//! - [`storage`]: uploaded files (a folder by default) and what their bytes say they are.
//! - [`validate`]: small input checks shared by the domains.
//! - [`settings`]: typed system settings (commission rate, limits, …).
//! - [`wallet`]: the double-entry ledger, escrow holds, recharges and payment webhooks.
//! - [`orders`]: placing orders (stock, escrow), the transition table, releases, vendor analytics.
//! - [`payouts`]: payout requests (vendors' earnings, users' wallets) and their settlement on the ledger.
//! - [`pickups`]: doorstep pickups: rate cards, slots, offers, weighing, escrow settlement.
//! - [`notifications`]: in-app notifications of order and payout events.
//! - [`chat`]: one chat room per order, messages with attachments, read receipts.
//! - [`realtime`]: subscriptions fed by pub/sub topics, published after commit, resolved once per group.
//! - [`jobs`]: the durable job queue, its worker, its tasks, the schedules and job control.
//! - [`reports`]: the daily platform report (stored, emailed to admins, readable by admins).
//! - [`ratelimit`]: per-IP and per-account attempt limits (Redis or in memory).
//! - [`mail`]: composing and sending email (SMTP or `.eml` files).
//! - [`pubsub`]: topics across instances (Redis) or within one process.

pub mod accounts;
pub mod address;
pub mod app;
pub mod audit;
pub mod auth;
pub mod batching;
pub mod catalog;
pub mod chat;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod geo;
pub mod graphql;
pub mod group_commit;
pub mod http;
pub mod jobs;
pub mod loader;
pub mod mail;
pub mod money;
pub mod notifications;
pub mod orders;
pub mod paging;
pub mod payouts;
pub mod pickups;
pub mod pubsub;
pub mod ratelimit;
pub mod realtime;
pub mod reports;
pub mod settings;
pub mod storage;
pub mod validate;
pub mod vendors;
pub mod wallet;

pub use app::AppState;
pub use error::{AppError, AppResult};
