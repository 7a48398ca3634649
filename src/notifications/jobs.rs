//! Notification jobs: emailing a notification its user did not see online.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    AppState,
    jobs::job::{Job, Registry},
};

/// Emails a notification to a user who was not online when it was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendNotification {
    pub notification_id: Uuid,
}

impl Job for SendNotification {
    const KIND: &'static str = "send_notification";
}

pub fn register(registry: &mut Registry<AppState>) {
    registry.handle(|state, job: SendNotification| async move {
        super::email::send(&state, job.notification_id).await
    });
}
