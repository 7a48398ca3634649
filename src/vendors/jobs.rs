//! Vendor emails, sent by jobs: the KYC decision.

use anyhow::Context as _;
use entity::vendors::{self, KycStatus};
use sea_orm::EntityTrait as _;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    AppState,
    jobs::job::{Job, Registry},
    mail::{recipient, templates},
};

/// Emails a vendor the KYC decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendKycDecisionEmail {
    pub vendor_id: Uuid,
}

impl Job for SendKycDecisionEmail {
    const KIND: &'static str = "send_kyc_decision_email";
}

pub fn register(registry: &mut Registry<AppState>) {
    registry.handle(|state, job: SendKycDecisionEmail| async move {
        send_kyc_decision(&state, job.vendor_id).await
    });
}

/// Tells the vendor the current KYC decision (read when the job runs, so a quick re-review
/// mails the final state).
pub async fn send_kyc_decision(state: &AppState, vendor_id: Uuid) -> anyhow::Result<()> {
    let vendor = vendors::Entity::find_by_id(vendor_id)
        .one(&state.db)
        .await
        .context("load the vendor")?
        .with_context(|| format!("vendor {vendor_id} no longer exists"))?;
    let user = recipient(&state.db, vendor.user_id).await?;
    let approved = vendor.kyc_status == KycStatus::Approved;
    let email = templates::kyc_decision(
        &user.email,
        &user.full_name,
        &vendor.business_name,
        approved,
        vendor.kyc_reason.as_deref().unwrap_or("not given"),
    );
    state.mailer.send(&email).await
}
