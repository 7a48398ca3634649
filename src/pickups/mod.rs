//! Doorstep pickups: a household sells scrap by weight to a vendor (a kabadiwala) who comes to
//! the door and pays at the city's rate card through escrow.
//!
//! Invariants:
//! - a pickup's items carry the rates in force when it was booked; a later `setRate` never
//!   changes its price (rates are versioned rows that are never edited or back-dated);
//! - a slot never takes more bookings than its capacity: `remaining` is taken by a conditional
//!   update (`remaining > 0`), like stock;
//! - a pickup offered without a slot is taken by exactly one vendor: acceptance is a
//!   conditional update on (status REQUESTED, the offer's round);
//! - while a vendor has a pickup (ASSIGNED to DISPUTED) the quote plus `pickup_hold_margin_bps`
//!   is held from the vendor's wallet; completion moves the final amount to the household and
//!   the commission to the platform and releases the rest, in the transaction that completes
//!   it, exactly once (the hold is settled by a conditional update); cancelling voids it;
//! - the status changes only through the transition table in [`state`], by conditional
//!   updates, so of two racing changes exactly one wins;
//! - a pickup has a chat room (household and collector) exactly when it has a collector: the
//!   room is opened in the transaction that assigns one;
//! - the collector's location is kept only as its last point, and only while EN_ROUTE.

pub mod admin;
pub mod events;
pub mod graphql;
pub mod jobs;
pub mod loaders;
pub mod service;
pub mod state;
