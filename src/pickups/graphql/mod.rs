//! The pickups' GraphQL layer: types ([`types`], [`parts`], [`inputs`]), the thin resolvers of
//! `rateCard`, `pickupSlots`, `pickups`, … ([`queries`]) and `setRate`, `bookPickup`,
//! `completePickup`, … ([`mutations`]), and `pickupUpdated` ([`subscription`]).

mod inputs;
mod mutations;
mod parts;
mod queries;
mod subscription;
mod types;

pub use inputs::*;
pub use mutations::PickupsMutation;
pub use parts::*;
pub use queries::PickupsQuery;
pub use subscription::PickupsSubscription;
pub use types::*;
