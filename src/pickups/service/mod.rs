//! Pickup rules, one concept a file: [`access`] (who the caller is to a pickup), [`rates`]
//! (rate cards), [`slots`] (vendors' windows), [`booking`] (quotes, slot bookings), [`offers`]
//! (offers to nearby vendors, acceptance, rounds), [`transitions`] (the moves and their
//! effects), [`completion`] (handover code, dispute resolution), [`settlement`] (the money),
//! [`queries`] (listings, summaries, analytics), [`common`] (what they share). Every function
//! runs inside its caller's transaction unless it says otherwise.

pub mod access;
pub mod booking;
pub mod common;
pub mod completion;
pub mod offers;
pub mod queries;
pub mod rates;
pub mod settlement;
pub mod slots;
pub mod transitions;
pub mod weighing;

pub use access::{Access, access_for, actor_of, may_read_photo, visible};
pub use common::{find, line_amount, reference};
