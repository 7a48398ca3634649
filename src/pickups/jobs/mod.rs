//! The pickups' job kinds (the service enqueues them); their handlers are in [`handlers`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::jobs::job::Job;

pub mod handlers;

/// Ends offer round `round` of a slot-less pickup: the next vendors, or EXPIRED.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpirePickupOffers {
    pub pickup_id: Uuid,
    pub round: i32,
}

impl Job for ExpirePickupOffers {
    const KIND: &'static str = "expire_pickup_offers";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offer_job_keeps_its_stored_kind_and_payload() {
        let job = ExpirePickupOffers {
            pickup_id: Uuid::nil(),
            round: 2,
        };
        let (kind, payload) = job.to_parts().unwrap_or(("", serde_json::Value::Null));
        assert_eq!(kind, "expire_pickup_offers");
        assert_eq!(payload["round"], 2);
        assert_eq!(ExpirePickupOffers::from_payload(&payload).ok(), Some(job));
    }
}
