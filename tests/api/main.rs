//! The one integration-test binary (linked once): every test drives the real schema over a fresh
//! database (a temp-file SQLite, or a fresh PostgreSQL database when `DATABASE_URL` is set), and
//! the transport tests a real server on a random port.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod addresses;
mod admin_browser;
mod admin_console;
mod admin_graphql;
mod admin_pickups;
mod admission;
mod auth;
mod authz_walk;
mod catalog;
mod catalog_pages;
mod chat;
mod crash;
mod fanout;
mod first_start;
mod fuzz;
mod http;
mod job_control;
mod jobs;
mod layout;
mod limits;
mod logs;
mod metrics;
mod negotiation;
mod order_batch;
mod orders;
mod payments;
mod payouts;
mod payouts_households;
mod payouts_razorpayx;
mod pickup_batch;
mod pickup_chat;
mod pickups;
mod playground;
mod pool;
mod products;
mod proxy;
mod realtime;
mod resume;
mod schedule;
mod schema;
mod seed_demo;
mod settings;
mod shutdown;
mod smtp;
mod vendors;
mod wallet;
mod ws_limits;
mod ws_operations;
