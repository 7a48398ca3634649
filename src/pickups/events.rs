//! What pickups publish, after the commit, on `pickup:{id}` (`pickupUpdated`): status changes
//! and the collector's location. A location event carries the point itself; nothing but the
//! last point is kept anywhere.

use chrono::{DateTime, Utc};
use entity::pickups;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AppState;

/// The topic of one pickup.
pub fn topic(pickup_id: Uuid) -> String {
    format!("pickup:{pickup_id}")
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventKind {
    /// The status changed (or the pickup changed with it: weighed, settled).
    Status,
    /// The collector shared a location.
    Location,
}

/// A pickup event as published.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PickupEvent {
    pub pickup_id: Uuid,
    pub kind: EventKind,
    pub status: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub at: DateTime<Utc>,
}

impl PickupEvent {
    pub fn status(pickup: &pickups::Model) -> Self {
        Self {
            pickup_id: pickup.id,
            kind: EventKind::Status,
            status: crate::pickups::state::name(pickup.status).to_owned(),
            latitude: None,
            longitude: None,
            at: pickup.updated_at,
        }
    }

    pub fn location(pickup: &pickups::Model, (lat, lon): (f64, f64), at: DateTime<Utc>) -> Self {
        Self {
            pickup_id: pickup.id,
            kind: EventKind::Location,
            status: crate::pickups::state::name(pickup.status).to_owned(),
            latitude: Some(lat),
            longitude: Some(lon),
            at,
        }
    }
}

/// Publishes `event` on its pickup's topic. Call after the commit; failures are logged.
pub async fn publish(state: &AppState, event: &PickupEvent) {
    crate::realtime::live::publish_json(state, &topic(event.pickup_id), event).await;
}

/// Publishes the status of `pickup` (as committed).
pub async fn status_changed(state: &AppState, pickup: &pickups::Model) {
    publish(state, &PickupEvent::status(pickup)).await;
}
