//! Admin decisions on vendors, shared by the admin GraphQL fields and the operators' console:
//! the KYC review, the commission rate, suspension. Each writes its audit row in the
//! transaction of the change.

use entity::{
    users,
    vendors::{self, KycStatus},
};
use sea_orm::TransactionTrait as _;
use serde_json::json;
use uuid::Uuid;

use super::service;
use crate::{
    AppState, accounts,
    audit::{self, Entry},
    auth::Viewer,
    error::AppResult,
};

/// The KYC status as the API spells it.
pub fn kyc_status_name(status: KycStatus) -> &'static str {
    match status {
        KycStatus::Pending => "PENDING",
        KycStatus::Submitted => "SUBMITTED",
        KycStatus::Approved => "APPROVED",
        KycStatus::Rejected => "REJECTED",
    }
}

/// Admin: approves or rejects a vendor's KYC (a rejection needs a reason); the vendor is
/// emailed the decision.
pub async fn review_kyc(
    state: &AppState,
    actor: Viewer,
    vendor_id: Uuid,
    approve: bool,
    reason: Option<String>,
) -> AppResult<vendors::Model> {
    let txn = state.db.begin().await?;
    let before = service::find(&txn, vendor_id).await?;
    let vendor = service::review_kyc(&txn, vendor_id, approve, reason.clone()).await?;
    audit::record(
        &txn,
        Entry::new(
            actor.user_id,
            if approve {
                "vendor.kyc_approve"
            } else {
                "vendor.kyc_reject"
            },
            "vendor",
            vendor_id,
        )
        .reason(reason.as_deref())
        .change(
            json!({ "kycStatus": kyc_status_name(before.kyc_status) }),
            json!({ "kycStatus": kyc_status_name(vendor.kyc_status) }),
        ),
    )
    .await?;
    txn.commit().await?;
    state.wake_worker();
    state.catalog_cache.invalidate();
    Ok(vendor)
}

/// Admin: sets a vendor's commission rate in basis points; `None` returns it to the default.
pub async fn set_commission(
    state: &AppState,
    actor: Viewer,
    vendor_id: Uuid,
    bps: Option<i32>,
) -> AppResult<vendors::Model> {
    let txn = state.db.begin().await?;
    let before = service::find(&txn, vendor_id).await?;
    let vendor = service::set_commission(&txn, vendor_id, bps).await?;
    audit::record(
        &txn,
        Entry::new(actor.user_id, "vendor.set_commission", "vendor", vendor_id).change(
            json!({ "commissionRateBps": before.commission_bps }),
            json!({ "commissionRateBps": vendor.commission_bps }),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(vendor)
}

/// Admin: suspends a vendor, with a reason, in one transaction: its KYC becomes REJECTED (so
/// its products leave the listings and nothing more can be ordered from it) and its owner's
/// account is deactivated (signed out everywhere, sign-in refused). Lifting it is a
/// reactivation of the owner and a new KYC approval.
pub async fn suspend(
    state: &AppState,
    actor: Viewer,
    vendor_id: Uuid,
    reason: &str,
) -> AppResult<users::Model> {
    use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, IntoActiveModel as _};

    let txn = state.db.begin().await?;
    let vendor = service::find(&txn, vendor_id).await?;
    let (owner, changed) =
        accounts::admin::set_active_in(&txn, actor, vendor.user_id, false, reason).await?;
    let before = vendor.kyc_status;
    let mut row = vendor.into_active_model();
    row.kyc_status = Set(KycStatus::Rejected);
    row.kyc_reason = Set(Some(format!("Suspended: {}", reason.trim())));
    row.updated_at = Set(chrono::Utc::now());
    row.update(&txn).await?;
    audit::record(
        &txn,
        Entry::new(actor.user_id, "vendor.suspend", "vendor", vendor_id)
            .reason(Some(reason))
            .change(
                json!({ "kycStatus": kyc_status_name(before), "ownerActive": true }),
                json!({ "kycStatus": "REJECTED", "ownerActive": false }),
            ),
    )
    .await?;
    txn.commit().await?;
    if changed {
        accounts::admin::publish_active(state, &owner).await;
    }
    state.catalog_cache.invalidate();
    Ok(owner)
}

/// Admin: vendors whose business name or city contains `search`, optionally in one KYC status,
/// oldest first (the review queue's order: who waited longest comes first), with the total.
pub async fn search_vendors(
    conn: &impl sea_orm::ConnectionTrait,
    search: Option<&str>,
    status: Option<KycStatus>,
    page: &crate::paging::Page,
) -> AppResult<(Vec<vendors::Model>, i64)> {
    use sea_orm::{
        ColumnTrait as _, Condition, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
        QueryOrder as _, QuerySelect as _,
    };
    let mut filter = Condition::all();
    if let Some(search) = search.map(str::trim).filter(|s| !s.is_empty()) {
        filter = filter.add(
            Condition::any()
                .add(crate::accounts::admin::contains_ci(
                    vendors::Column::BusinessName,
                    search,
                ))
                .add(crate::accounts::admin::contains_ci(
                    vendors::Column::City,
                    search,
                )),
        );
    }
    if let Some(status) = status {
        filter = filter.add(vendors::Column::KycStatus.eq(status));
    }
    let total = vendors::Entity::find()
        .filter(filter.clone())
        .count(conn)
        .await?;
    if let Some(after) = page.after {
        filter = filter.add(
            Condition::any()
                .add(vendors::Column::CreatedAt.gt(after.at))
                .add(
                    Condition::all()
                        .add(vendors::Column::CreatedAt.eq(after.at))
                        .add(vendors::Column::Id.gt(after.id)),
                ),
        );
    }
    let rows = vendors::Entity::find()
        .filter(filter)
        .order_by_asc(vendors::Column::CreatedAt)
        .order_by_asc(vendors::Column::Id)
        .limit(page.limit + 1)
        .all(conn)
        .await?;
    Ok((rows, i64::try_from(total).unwrap_or(i64::MAX)))
}
