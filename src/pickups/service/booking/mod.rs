//! Booking a pickup: the quote at the rates in force (locked on its items), into a vendor's slot
//! (a booking of the slot taken, the collector's hold placed, the chat room opened: ASSIGNED)
//! or offered to the nearest covering vendors (REQUESTED, see [`super::offers`]). Replaying the
//! idempotency key with the same input returns the first pickup.
//!
//! [`single`] books one pickup in its own transaction; [`queue`] is the group commit the API
//! uses for slot bookings (many in one transaction, [`batch`], each with its own answer, by
//! the same rules); the checks and rows both build on are in [`rules`].

mod batch;
pub mod queue;
mod rules;
pub mod single;

pub use crate::pickups::service::offers::OfferRules;
pub use queue::BookingQueue;
pub use rules::{BookPickupInput, Booked, MAX_ITEMS, MAX_KG, PickupItemInput};
pub use single::book_pickup;
