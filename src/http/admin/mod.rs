//! The operators' console at `/admin`: server-rendered pages (maud templates compiled into the
//! binary) over the same service functions as the admin GraphQL fields — a console action and
//! its mutation are one function, and each writes its audit row in the transaction of the
//! change. htmx (embedded, `hx-boost`) only spares full reloads: every read and every action is
//! a plain link or a plain form (POST, then a redirect), so the console works with JavaScript
//! off.
//!
//! - [`session`]: sign-in sessions (cookie), the admin extractor, form tokens (CSRF).
//! - [`login`]: sign-in (password, then the emailed code when two-factor is on) and sign-out.
//! - [`view`]: the page frame and view helpers; [`assets`]: the stylesheet and htmx.
//! - one module per section: [`dashboard`], [`users`], [`vendors`], [`products`], [`orders`],
//!   [`pickups`], [`rates`], [`payouts`], [`ledger`], [`jobs`], [`settings`], [`audit`].

mod assets;
mod audit;
mod dashboard;
mod jobs;
mod ledger;
mod login;
mod orders;
mod payouts;
mod pickups;
mod products;
mod rates;
mod session;
mod settings;
mod users;
mod vendors;
mod view;

use axum::{
    Extension, Router,
    routing::{get, post},
};

use super::HttpState;
use crate::{config::Config, ratelimit::RateLimiter};

/// The console's sign-in limits (the same rules and, with Redis, the same counters as the
/// API's `login` and `verifyOtp`).
#[derive(Clone)]
pub struct ConsoleLimiter(pub RateLimiter);

/// Every console route.
pub fn router(config: &Config) -> Router<HttpState> {
    let limiter = RateLimiter::from_config(config).unwrap_or_else(|err| {
        tracing::error!(error = ?err, "console rate limits fall back to this process's memory");
        RateLimiter::in_memory(config.rate_limits.clone())
    });
    Router::new()
        .route("/admin", get(dashboard::page))
        .route("/admin/login", get(login::page).post(login::password))
        .route("/admin/login/code", post(login::code))
        .route("/admin/logout", post(login::logout))
        .route("/admin/assets/{version}/{file}", get(assets::asset))
        .route("/admin/users", get(users::list))
        .route("/admin/users/{id}", get(users::detail))
        .route("/admin/users/{id}/active", post(users::set_active))
        .route("/admin/users/{id}/role", post(users::set_role))
        .route("/admin/users/{id}/adjust", post(ledger::adjust))
        .route("/admin/vendors", get(vendors::list))
        .route("/admin/vendors/{id}", get(vendors::detail))
        .route("/admin/vendors/{id}/kyc", post(vendors::review))
        .route("/admin/vendors/{id}/commission", post(vendors::commission))
        .route("/admin/vendors/{id}/suspend", post(vendors::suspend))
        .route(
            "/admin/vendors/{id}/documents/{doc}",
            get(vendors::document),
        )
        .route("/admin/products", get(products::list))
        .route("/admin/products/{id}", get(products::detail))
        .route("/admin/products/{id}/unlist", post(products::unlist))
        .route("/admin/orders", get(orders::list))
        .route("/admin/orders/{id}", get(orders::detail))
        .route("/admin/orders/{id}/refund", post(orders::refund))
        .route("/admin/pickups", get(pickups::list))
        .route("/admin/pickups/{id}", get(pickups::detail))
        .route("/admin/pickups/{id}/resolve", post(pickups::resolve))
        .route("/admin/pickups/{id}/photo", get(pickups::photo))
        .route("/admin/rates", get(rates::page).post(rates::set))
        .route("/admin/payouts", get(payouts::list))
        .route("/admin/payouts/{id}", get(payouts::detail))
        .route("/admin/payouts/{id}/approve", post(payouts::approve))
        .route("/admin/payouts/{id}/reject", post(payouts::reject))
        .route("/admin/payouts/{id}/paid", post(payouts::mark_paid))
        .route("/admin/ledger", get(ledger::page))
        .route("/admin/ledger/{id}", get(ledger::account))
        .route("/admin/jobs", get(jobs::list))
        .route("/admin/jobs/purge", post(jobs::purge))
        .route("/admin/jobs/{id}", get(jobs::detail))
        .route("/admin/jobs/{id}/retry", post(jobs::retry))
        .route("/admin/settings", get(settings::page))
        .route(
            "/admin/settings/categories",
            post(settings::create_category),
        )
        .route(
            "/admin/settings/categories/{id}/delete",
            post(settings::delete_category),
        )
        .route("/admin/settings/{key}", post(settings::update))
        .route("/admin/audit", get(audit::list))
        .route("/admin/audit/{id}", get(audit::detail))
        .layer(Extension(ConsoleLimiter(limiter)))
}
