//! Payouts: an APPROVED vendor asks to be paid its earnings; an admin approves and marks it paid,
//! or rejects it. Invariant: a request never exceeds the vendor's earnings balance — the amount
//! moves from the vendor's earnings to its payout-held ledger account in the same transaction
//! as the request (a conditional debit), back on rejection, and out to the payment provider's
//! clearing account when paid. With `PAYOUT_PROVIDER=razorpayx` an approved payout is
//! sent to RazorpayX (PROCESSING) and its webhook settles it: PAID, or REVERSED back to earnings.

pub mod accounts;
pub mod admin;
pub mod graphql;
pub mod jobs;
pub mod provider;
pub mod service;
