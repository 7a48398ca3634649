//! Every kind of background job, and how each runs. The serialized form is `kind` (the
//! variant's snake_case name, as in DESIGN.md) plus a JSON `payload`.

mod email;
mod orders;
mod vendors;

pub use orders::OrderEmail;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AppState;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum Task {
    SendVerificationEmail {
        user_id: Uuid,
        token: String,
    },
    SendOtpEmail {
        user_id: Uuid,
        code: String,
    },
    SendPasswordResetEmail {
        user_id: Uuid,
        token: String,
    },
    ProcessWalletRecharge {
        recharge_id: Uuid,
    },
    SendKycDecisionEmail {
        vendor_id: Uuid,
    },
    SendOrderEmail {
        order_id: Uuid,
        email: OrderEmail,
    },
    ReleaseHeldAmount {
        order_id: Uuid,
    },
    AutoReleaseDelivered,
    /// Scheduled: deletes expired sessions and tokens, and old finished jobs.
    CleanupExpiredSessions {
        slot: DateTime<Utc>,
    },
    /// Scheduled: computes, stores and emails the report of `day` (UTC).
    GenerateDailyReport {
        day: NaiveDate,
    },
    /// Emails a notification to a user who was not online when it was created.
    SendNotification {
        notification_id: Uuid,
    },
    /// Ends offer round `round` of a slot-less pickup: the next vendors, or EXPIRED.
    ExpirePickupOffers {
        pickup_id: Uuid,
        round: i32,
    },
}

impl Task {
    pub fn to_parts(&self) -> serde_json::Result<(String, serde_json::Value)> {
        let mut value = serde_json::to_value(self)?;
        let kind = value
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or_default()
            .to_owned();
        let payload = value
            .get_mut("payload")
            .map(serde_json::Value::take)
            .unwrap_or(serde_json::Value::Null);
        Ok((kind, payload))
    }

    pub fn from_parts(kind: &str, payload: &serde_json::Value) -> serde_json::Result<Self> {
        serde_json::from_value(serde_json::json!({ "kind": kind, "payload": payload }))
    }
}

/// Runs `task`; notifications it creates are published once it is done (after its commits).
pub async fn run(state: &AppState, task: &Task) -> anyhow::Result<()> {
    crate::realtime::live::after(state, run_task(state, task)).await
}

async fn run_task(state: &AppState, task: &Task) -> anyhow::Result<()> {
    match task {
        Task::SendVerificationEmail { user_id, token } => {
            email::send_verification(state, *user_id, token).await
        }
        Task::SendOtpEmail { user_id, code } => email::send_otp(state, *user_id, code).await,
        Task::SendPasswordResetEmail { user_id, token } => {
            email::send_password_reset(state, *user_id, token).await
        }
        Task::ProcessWalletRecharge { recharge_id } => {
            crate::wallet::recharge::process(state, *recharge_id).await
        }
        Task::SendKycDecisionEmail { vendor_id } => {
            vendors::send_kyc_decision(state, *vendor_id).await
        }
        Task::SendOrderEmail { order_id, email } => {
            orders::send_order_email(state, *order_id, *email).await
        }
        Task::ReleaseHeldAmount { order_id } => orders::release_held_amount(state, *order_id).await,
        Task::AutoReleaseDelivered => orders::auto_release_delivered(state).await,
        // The slot only names the firing; what is expired is judged when the job runs.
        Task::CleanupExpiredSessions { .. } => {
            let retention = chrono::Duration::days(state.config.retention_days);
            let deleted = crate::jobs::cleanup::cleanup_expired(&state.db, Utc::now(), retention)
                .await
                .map_err(|e| anyhow::anyhow!("cleanup: {e:?}"))?;
            tracing::info!(?deleted, "expired sessions and old jobs cleaned up");
            Ok(())
        }
        Task::GenerateDailyReport { day } => {
            crate::reports::service::generate_and_send(state, *day).await
        }
        Task::SendNotification { notification_id } => {
            crate::notifications::email::send(state, *notification_id).await
        }
        Task::ExpirePickupOffers { pickup_id, round } => {
            crate::pickups::jobs::expire_offers(state, *pickup_id, *round).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_round_trips_through_kind_and_payload() {
        let task = Task::SendOtpEmail {
            user_id: Uuid::nil(),
            code: "123456".into(),
        };
        let (kind, payload) = task.to_parts().unwrap_or_default();
        assert_eq!(kind, "send_otp_email");
        assert_eq!(Task::from_parts(&kind, &payload).ok(), Some(task));
    }
}
