//! The pickups' GraphQL types ([`types`]), the thin resolvers of `rateCard`, `setRate`,
//! `pickupSlots`, `bookPickup`, … ([`resolvers`]) and `pickupUpdated` ([`subscription`]).

mod resolvers;
mod subscription;
mod types;

pub use resolvers::{PickupsMutation, PickupsQuery};
pub use subscription::PickupsSubscription;
pub use types::*;
