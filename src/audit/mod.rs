//! The audit log: every admin action, from the operators' console or GraphQL, recorded as one
//! `audit_log` row (who, what, to what, why, the values before and after).
//!
//! What must stay true here:
//! - a row is written with [`service::record`] on the caller's connection, inside the
//!   transaction of the change it records, so an action that rolls back leaves no row and a
//!   committed action always has one;
//! - rows are never updated or deleted: there is no such function, in the API or the console.

pub mod graphql;
pub mod service;

pub use service::{AuditFilter, Entry, record};
