//! Payouts: an APPROVED vendor asks to be paid its earnings; an admin approves and marks it paid,
//! or rejects it. Invariant: a request never exceeds the vendor's earnings balance — the amount
//! moves from the vendor's earnings to its payout-held ledger account in the same transaction
//! as the request (a conditional debit), back on rejection, and out to the payment provider's
//! clearing account when paid.

pub mod admin;
pub mod graphql;
pub mod service;
