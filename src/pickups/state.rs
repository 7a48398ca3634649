//! The pickup state machine as one table: who may move a pickup from which status to which.
//! Everything not in [`TRANSITIONS`] is INVALID_TRANSITION. Pure, so it is unit-tested here.
//!
//! Booking is not a move: a pickup is born REQUESTED (offered to nearby vendors) or ASSIGNED
//! (booked into a vendor's slot).

use entity::{pickup_status_history::PickupActor, pickups::PickupStatus};

use PickupActor::{Admin, Household, System, Vendor};
use PickupStatus::{
    Arrived, Assigned, Cancelled, Completed, Disputed, EnRoute, Expired, Requested, Weighed,
};

/// `(from, to, who may do it)`.
pub const TRANSITIONS: &[(PickupStatus, PickupStatus, &[PickupActor])] = &[
    // A vendor with an open offer takes it (`acceptPickup`).
    (Requested, Assigned, &[Vendor]),
    // Nobody took it in time, round after round.
    (Requested, Expired, &[System]),
    // The collector sets out, arrives, weighs.
    (Assigned, EnRoute, &[Vendor]),
    (EnRoute, Arrived, &[Vendor]),
    (Arrived, Weighed, &[Vendor]),
    // The household hands over the code; the vendor completes and pays.
    (Weighed, Completed, &[Vendor]),
    // ...or disputes the weighing, and an admin settles or cancels.
    (Weighed, Disputed, &[Household]),
    (Disputed, Completed, &[Admin]),
    (Disputed, Cancelled, &[Admin]),
    // Either side cancels before the collector arrives (the household also while it is
    // only offered).
    (Requested, Cancelled, &[Household]),
    (Assigned, Cancelled, &[Household, Vendor]),
    (EnRoute, Cancelled, &[Household, Vendor]),
];

/// Every status, in lifecycle order.
pub const ALL: [PickupStatus; 9] = [
    Requested, Assigned, EnRoute, Arrived, Weighed, Completed, Cancelled, Expired, Disputed,
];

/// Every actor.
pub const ACTORS: [PickupActor; 4] = [Household, Vendor, Admin, System];

/// Whether `actor` may move a pickup from `from` to `to`.
pub fn allowed(from: PickupStatus, to: PickupStatus, actor: PickupActor) -> bool {
    TRANSITIONS
        .iter()
        .any(|(f, t, who)| *f == from && *t == to && who.contains(&actor))
}

/// No transition leaves these.
pub fn is_final(status: PickupStatus) -> bool {
    matches!(status, Completed | Cancelled | Expired)
}

/// The vendor's money is held in these.
pub fn holds_money(status: PickupStatus) -> bool {
    matches!(status, Assigned | EnRoute | Arrived | Weighed | Disputed)
}

/// `EN_ROUTE`, for messages.
pub fn name(status: PickupStatus) -> &'static str {
    match status {
        Requested => "REQUESTED",
        Assigned => "ASSIGNED",
        EnRoute => "EN_ROUTE",
        Arrived => "ARRIVED",
        Weighed => "WEIGHED",
        Completed => "COMPLETED",
        Cancelled => "CANCELLED",
        Expired => "EXPIRED",
        Disputed => "DISPUTED",
    }
}

/// "the household", for messages.
pub fn actor_name(actor: PickupActor) -> &'static str {
    match actor {
        Household => "the household",
        Vendor => "the collector",
        Admin => "an admin",
        System => "the system",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_is_walked_by_the_vendor() {
        for (from, to) in [
            (Requested, Assigned),
            (Assigned, EnRoute),
            (EnRoute, Arrived),
            (Arrived, Weighed),
            (Weighed, Completed),
        ] {
            assert!(allowed(from, to, Vendor), "{from:?} → {to:?}");
            assert!(!allowed(from, to, Household), "{from:?} → {to:?}");
        }
    }

    #[test]
    fn either_side_cancels_only_before_the_collector_arrives() {
        for from in ALL {
            for actor in [Household, Vendor] {
                let expected = match actor {
                    Household => matches!(from, Requested | Assigned | EnRoute),
                    _ => matches!(from, Assigned | EnRoute),
                };
                assert_eq!(
                    allowed(from, Cancelled, actor),
                    expected,
                    "{from:?} by {actor:?}"
                );
            }
        }
        assert!(!allowed(Arrived, Cancelled, Household));
        assert!(!allowed(Weighed, Cancelled, Vendor));
    }

    #[test]
    fn only_an_admin_settles_a_dispute_and_only_the_household_opens_one() {
        for actor in ACTORS {
            assert_eq!(allowed(Weighed, Disputed, actor), actor == Household);
            assert_eq!(allowed(Disputed, Completed, actor), actor == Admin);
            assert_eq!(allowed(Disputed, Cancelled, actor), actor == Admin);
        }
    }

    #[test]
    fn nothing_leaves_a_final_state_and_nothing_stays_in_place() {
        for from in ALL {
            for to in ALL {
                for actor in ACTORS {
                    if is_final(from) || from == to {
                        assert!(!allowed(from, to, actor), "{from:?} → {to:?} by {actor:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_table_has_exactly_the_listed_moves() {
        let count = ALL
            .iter()
            .flat_map(|f| ALL.iter().map(move |t| (*f, *t)))
            .flat_map(|(f, t)| ACTORS.iter().map(move |a| allowed(f, t, *a)))
            .filter(|ok| *ok)
            .count();
        // 5 vendor steps + expiry + dispute + 2 admin resolutions + 5 cancels.
        assert_eq!(count, 14);
        assert!(!allowed(Assigned, Weighed, Vendor), "no skipping");
        assert!(
            !allowed(Weighed, Completed, Household),
            "the vendor pays, with the code"
        );
    }
}
