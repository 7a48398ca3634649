//! The order state machine as one table: who may move an order from which status to which.
//! Everything not in [`TRANSITIONS`] is INVALID_TRANSITION. Pure, so it is unit-tested here.

use entity::{order_status_history::OrderActor, orders::OrderStatus};

use OrderActor::{Admin, Buyer, System, Vendor};
use OrderStatus::{Cancelled, Completed, Confirmed, Delivered, Packed, Placed, Refunded, Shipped};

/// `(from, to, who may do it)`.
pub const TRANSITIONS: &[(OrderStatus, OrderStatus, &[OrderActor])] = &[
    // The vendor accepts, packs, ships and delivers.
    (Placed, Confirmed, &[Vendor]),
    (Confirmed, Packed, &[Vendor]),
    (Packed, Shipped, &[Vendor]),
    (Shipped, Delivered, &[Vendor]),
    // The buyer confirms the delivery, or the system does after AUTO_RELEASE_HOURS.
    (Delivered, Completed, &[Buyer, System]),
    // The buyer cancels before confirmation; the vendor rejects while it is PLACED.
    (Placed, Cancelled, &[Buyer, Vendor]),
    // An admin refunds from any state before COMPLETED.
    (Placed, Refunded, &[Admin]),
    (Confirmed, Refunded, &[Admin]),
    (Packed, Refunded, &[Admin]),
    (Shipped, Refunded, &[Admin]),
    (Delivered, Refunded, &[Admin]),
];

/// Every status, in lifecycle order.
pub const ALL: [OrderStatus; 8] = [
    Placed, Confirmed, Packed, Shipped, Delivered, Completed, Cancelled, Refunded,
];

/// Whether `actor` may move an order from `from` to `to`.
pub fn allowed(from: OrderStatus, to: OrderStatus, actor: OrderActor) -> bool {
    TRANSITIONS
        .iter()
        .any(|(f, t, who)| *f == from && *t == to && who.contains(&actor))
}

/// No transition leaves these.
pub fn is_final(status: OrderStatus) -> bool {
    matches!(status, Completed | Cancelled | Refunded)
}

/// The hold is voided and the stock restored on entering these.
pub fn returns_money(status: OrderStatus) -> bool {
    matches!(status, Cancelled | Refunded)
}

/// `PLACED` → `Placed`, for messages.
pub fn name(status: OrderStatus) -> &'static str {
    match status {
        Placed => "PLACED",
        Confirmed => "CONFIRMED",
        Packed => "PACKED",
        Shipped => "SHIPPED",
        Delivered => "DELIVERED",
        Completed => "COMPLETED",
        Cancelled => "CANCELLED",
        Refunded => "REFUNDED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTORS: [OrderActor; 4] = [Buyer, Vendor, Admin, System];

    #[test]
    fn the_happy_path_is_walked_by_the_vendor_then_the_buyer() {
        assert!(allowed(Placed, Confirmed, Vendor));
        assert!(allowed(Confirmed, Packed, Vendor));
        assert!(allowed(Packed, Shipped, Vendor));
        assert!(allowed(Shipped, Delivered, Vendor));
        assert!(allowed(Delivered, Completed, Buyer));
        assert!(allowed(Delivered, Completed, System));
    }

    #[test]
    fn only_the_buyer_and_the_vendor_cancel_and_only_while_placed() {
        for from in ALL {
            for actor in ACTORS {
                let expected = from == Placed && matches!(actor, Buyer | Vendor);
                assert_eq!(
                    allowed(from, Cancelled, actor),
                    expected,
                    "{from:?} by {actor:?}"
                );
            }
        }
    }

    #[test]
    fn only_admins_refund_and_never_a_completed_or_closed_order() {
        for from in ALL {
            for actor in ACTORS {
                let expected = actor == Admin && !is_final(from);
                assert_eq!(
                    allowed(from, Refunded, actor),
                    expected,
                    "{from:?} by {actor:?}"
                );
            }
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
        // 4 vendor steps + completion by buyer or system (2) + cancel by buyer or vendor (2)
        // + 5 admin refunds.
        assert_eq!(count, 13);
        assert!(!allowed(Placed, Packed, Vendor), "no skipping");
        assert!(
            !allowed(Delivered, Completed, Vendor),
            "the vendor cannot pay itself"
        );
        assert!(!allowed(Confirmed, Cancelled, Buyer), "too late to cancel");
    }
}
