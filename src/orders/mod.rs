//! Orders: one buyer's order from one APPROVED vendor whose service radius covers the delivery
//! address. Invariants: an order exists if and only if its stock was taken and its total held in
//! escrow (one transaction); its status changes only through the transition table in
//! [`state`], by conditional updates, so of two racing changes exactly one wins; CANCELLED and
//! REFUNDED void the hold and restore the stock; COMPLETED releases the hold to the vendor's
//! earnings account (owned by the vendor id) less the commission frozen at placement.

pub mod analytics;
pub mod graphql;
pub mod jobs;
pub mod loaders;
/// Group commit of placements: many orders in one transaction, each with its own answer.
pub mod service;
pub mod state;
pub mod subscriptions;
