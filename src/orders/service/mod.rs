//! Order rules: placing an order (prices frozen, stock decremented, money held — one
//! transaction; concurrent placements share transactions through the [`queue`]), moving it
//! through the transition table with its money and stock effects, releasing the held amount,
//! and listing what a caller may see. One concept a file:
//!
//! - [`rules`]: the request's shape, the checks and the rows of an accepted order (pure);
//! - [`placement`]: placing one order; [`queue`] and [`batch`]: the group commit;
//! - [`transitions`]: the transition table applied, with effects and notifications;
//! - [`settlement`]: releasing holds, the auto-release sweep;
//! - [`queries`]: reading orders.

pub mod batch;
pub mod placement;
pub mod queries;
pub mod queue;
pub mod rules;
pub mod settlement;
pub mod transitions;

pub use placement::place_order;
pub use queries::{Scope, actor_for, find, page, visible};
pub use queue::{DEFAULT_MAX_BATCH, PlacementQueue};
pub use rules::{MAX_LINES, OrderLineInput, PlaceOrderInput, Placed};
pub use settlement::{AutoReleased, auto_release_delivered, release_held_amount};
pub use transitions::transition;
