//! The wallet: a double-entry ledger. Every movement of money is one immutable transfer between
//! two ledger accounts, written in the same transaction as the balance changes and the business
//! row that caused it. [`ledger`] is the only code that writes balances.
//!
//! Invariants (checked by tests and the admin `ledgerCheck` query): balances sum to zero; every
//! account's balance equals the sum of its entries; no user or vendor balance is negative; a
//! replayed idempotency key moves nothing; a hold is settled (released or voided) exactly once;
//! no money stays held for an order or payout that is over (a stale hold).

pub mod admin;
pub mod escrow;
pub mod graphql;
pub mod history;
pub mod jobs;
pub mod ledger;
/// Payment and payout providers: sandbox, Razorpay, Stripe; manual, RazorpayX.
pub mod providers;
pub mod recharge;
/// Holds still HELD for orders and payouts that are over, reported by `ledgerCheck`.
pub mod webhook;
