//! Payouts: a user asks to be paid, from one of two sources: a vendor (KYC APPROVED) its
//! earnings, any user (a household paid for its scrap) its available wallet balance. An admin
//! approves and marks it paid, or rejects it. One flow for both: the same statuses, rules,
//! provider calls and webhooks; only the ledger accounts differ ([`funds`]). Invariant: a request
//! never exceeds its source's balance — the amount moves from the source to a payout-held ledger
//! account in the same transaction as the request (a conditional debit), back on rejection, and
//! out to the payment provider's clearing account when paid. With `PAYOUT_PROVIDER=razorpayx` an
//! approved payout is sent to RazorpayX (PROCESSING) and its webhook settles it: PAID, or
//! REVERSED back to the source.

pub mod accounts;
pub mod admin;
pub mod funds;
pub mod graphql;
pub mod jobs;
pub mod provider;
pub mod service;
