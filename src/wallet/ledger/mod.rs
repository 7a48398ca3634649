//! Ledger accounts and transfers: the only code that changes a balance. A debit is a conditional
//! update (`balance >= amount`), so concurrent spends can never take a balance below zero, on
//! SQLite and PostgreSQL alike; the two rows of a transfer are locked in id order so opposite
//! transfers cannot deadlock.
//!
//! - [`accounts`]: the accounts, created on first use;
//! - [`transfer`]: one transfer at a time;
//! - [`batch`]: many transfers between wallets locked once (group commit);
//! - [`check`]: `ledgerCheck`, with [`stale`] holds.

pub mod accounts;
pub mod batch;
pub mod check;
pub mod stale;
pub mod transfer;

pub use accounts::{CURRENCY, PLATFORM, account, balance_of, may_go_negative};
pub(crate) use batch::{LockedTransfer, Wallet, lock_wallets, record_locked};
pub use check::{LedgerReport, check};
pub use transfer::{Transfer, transfer};
