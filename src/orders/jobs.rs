//! Order jobs: the emails of the important transitions, releasing a completed order's held
//! amount, and the recurring sweep that completes long-delivered orders. The kinds are here
//! (the service enqueues them); their handlers are in [`handlers`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::jobs::job::Job;

pub mod handlers;

/// Emails the parties of an order about one of its transitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendOrderEmail {
    pub order_id: Uuid,
    pub email: OrderEmail,
}

impl Job for SendOrderEmail {
    const KIND: &'static str = "send_order_email";
}

/// Releases a completed order's hold to its vendor, less commission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseHeldAmount {
    pub order_id: Uuid,
}

impl Job for ReleaseHeldAmount {
    const KIND: &'static str = "release_held_amount";
}

/// Completes the orders delivered more than `AutoReleaseHours` ago (recurring).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoReleaseDelivered;

impl Job for AutoReleaseDelivered {
    const KIND: &'static str = "auto_release_delivered";
}

/// Which order email to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderEmail {
    /// To the buyer (a receipt) and to the vendor (a new order).
    Placed,
    Confirmed,
    Delivered,
    Refunded,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_jobs_keep_their_stored_kinds_and_payloads() {
        let email = SendOrderEmail {
            order_id: Uuid::nil(),
            email: OrderEmail::Refunded,
        };
        let (kind, payload) = email.to_parts().unwrap_or(("", serde_json::Value::Null));
        assert_eq!(kind, "send_order_email");
        assert_eq!(payload["email"], "refunded");
        assert_eq!(SendOrderEmail::from_payload(&payload).ok(), Some(email));
        assert_eq!(
            AutoReleaseDelivered.to_parts().ok(),
            Some(("auto_release_delivered", serde_json::Value::Null))
        );
    }
}
