//! What the demo seed makes (its options and report) and the demo accounts.

use std::time::Duration;

/// Every demo account's email ends with this.
pub const DEMO_DOMAIN: &str = "demo.kabaadwala.in";
/// The password of every demo account (the admin's included).
pub const DEMO_PASSWORD: &str = "kabaad-demo-2026";
/// The demo admin's email.
pub const ADMIN_EMAIL: &str = "admin@demo.kabaadwala.in";
/// A demo customer with a funded wallet, orders and chats (first batch only).
pub const CUSTOMER_EMAIL: &str = "customer@demo.kabaadwala.in";
/// A demo vendor with products and orders, one of them from [`CUSTOMER_EMAIL`] (first batch only).
pub const VENDOR_EMAIL: &str = "vendor@demo.kabaadwala.in";
/// The sign-ins `serve --demo` prints, as (who, email); all have [`DEMO_PASSWORD`].
pub const SIGN_INS: [(&str, &str); 3] = [
    ("admin", ADMIN_EMAIL),
    ("customer", CUSTOMER_EMAIL),
    ("vendor", VENDOR_EMAIL),
];

/// How much to create. [`Options::for_products`] derives the rest from the product count.
#[derive(Debug, Clone)]
pub struct Options {
    pub products: usize,
    pub customers: usize,
    /// Approved vendors (two more are left waiting for KYC review).
    pub vendors: usize,
    pub orders: usize,
    /// Add another batch even if the database already has demo data.
    pub force: bool,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

impl Options {
    pub fn for_products(products: usize) -> Self {
        Self {
            products,
            customers: (products / 40).clamp(8, 300),
            vendors: (products / 80).clamp(6, 80),
            orders: (products / 8).clamp(16, 600),
            force: false,
            progress: false,
        }
    }
}

/// What was created.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub admin_email: String,
    pub admin_password: String,
    /// Whether this was the first batch, the one with the well-known [`SIGN_INS`].
    pub first_batch: bool,
    pub customers: usize,
    pub vendors: usize,
    pub pending_vendors: usize,
    pub products: usize,
    pub orders: usize,
    pub messages: usize,
    pub notifications: u64,
    pub elapsed: Duration,
}
