//! Vendor rules: one profile per user, validated location and radius, KYC review.

use chrono::Utc;
use entity::{
    users::{self, Role},
    vendors::{self, KycStatus},
};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait,
    IntoActiveModel as _, QueryFilter, QueryOrder as _, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    address::Address,
    auth::service::{check_name, normalize_phone},
    error::{AppError, AppResult},
    geo,
    jobs::queue,
    settings::service::{self as settings, Setting},
    validate::optional_text,
};

/// The largest service radius a vendor may claim: this is a hyperlocal marketplace.
pub const MAX_SERVICE_RADIUS_KM: f64 = 100.0;

#[derive(Debug, Clone)]
pub struct VendorInput {
    pub business_name: String,
    pub description: Option<String>,
    pub phone: String,
    pub address: Address,
    pub latitude: f64,
    pub longitude: f64,
    pub service_radius_km: f64,
}

struct Checked {
    business_name: String,
    description: Option<String>,
    phone: String,
    address: Address,
    latitude: f64,
    longitude: f64,
    service_radius_km: f64,
}

fn check(input: VendorInput) -> AppResult<Checked> {
    let business_name = check_name("businessName", &input.business_name)?;
    let description = optional_text("description", input.description, 2000)?;
    let phone = normalize_phone("phone", &input.phone)?;
    let address = input.address.check()?.into_inner();
    geo::check_point(input.latitude, input.longitude)
        .map_err(|field| AppError::bad_input(field, "is not a valid coordinate"))?;
    let radius = input.service_radius_km;
    if !radius.is_finite() || radius <= 0.0 || radius > MAX_SERVICE_RADIUS_KM {
        return Err(AppError::bad_input(
            "serviceRadiusKm",
            format!("must be more than 0 and at most {MAX_SERVICE_RADIUS_KM} km"),
        ));
    }
    Ok(Checked {
        business_name,
        description,
        phone,
        address,
        latitude: input.latitude,
        longitude: input.longitude,
        service_radius_km: radius,
    })
}

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<vendors::Model> {
    vendors::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("vendor"))
}

/// The caller's vendor profile, if they have one.
pub async fn of_user(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
) -> AppResult<Option<vendors::Model>> {
    Ok(vendors::Entity::find()
        .filter(vendors::Column::UserId.eq(user_id))
        .one(conn)
        .await?)
}

/// The caller's vendor profile, or FORBIDDEN when they are not a vendor.
pub async fn require_own(conn: &impl ConnectionTrait, user_id: Uuid) -> AppResult<vendors::Model> {
    of_user(conn, user_id)
        .await?
        .ok_or_else(|| AppError::Forbidden("register as a vendor first".into()))
}

/// Creates the caller's vendor profile (KYC PENDING) and gives them the VENDOR role.
pub async fn register(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    input: VendorInput,
) -> AppResult<vendors::Model> {
    let c = check(input)?;
    if of_user(conn, user_id).await?.is_some() {
        return Err(AppError::Conflict("you are already a vendor".into()));
    }
    let now = Utc::now();
    let vendor = vendors::ActiveModel {
        id: Set(crate::db::new_id()),
        user_id: Set(user_id),
        business_name: Set(c.business_name),
        description: Set(c.description),
        phone: Set(c.phone),
        address_label: Set(c.address.label),
        address_line1: Set(c.address.line1),
        address_line2: Set(c.address.line2),
        city: Set(c.address.city),
        state: Set(c.address.state),
        pincode: Set(c.address.pincode),
        latitude: Set(c.latitude),
        longitude: Set(c.longitude),
        service_radius_km: Set(c.service_radius_km),
        kyc_status: Set(KycStatus::Pending),
        kyc_reason: Set(None),
        commission_bps: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    // Admins keep their role; everyone else becomes a vendor.
    users::Entity::update_many()
        .col_expr(users::Column::Role, Expr::value(Role::Vendor))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user_id))
        .filter(users::Column::Role.eq(Role::Customer))
        .exec(conn)
        .await?;
    Ok(vendor)
}

/// Replaces the caller's profile fields. KYC status is untouched.
pub async fn update_profile(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    input: VendorInput,
) -> AppResult<vendors::Model> {
    let c = check(input)?;
    let mut vendor = require_own(conn, user_id).await?.into_active_model();
    vendor.business_name = Set(c.business_name);
    vendor.description = Set(c.description);
    vendor.phone = Set(c.phone);
    vendor.address_label = Set(c.address.label);
    vendor.address_line1 = Set(c.address.line1);
    vendor.address_line2 = Set(c.address.line2);
    vendor.city = Set(c.address.city);
    vendor.state = Set(c.address.state);
    vendor.pincode = Set(c.address.pincode);
    vendor.latitude = Set(c.latitude);
    vendor.longitude = Set(c.longitude);
    vendor.service_radius_km = Set(c.service_radius_km);
    vendor.updated_at = Set(Utc::now());
    Ok(vendor.update(conn).await?)
}

/// Admin decision on a vendor's KYC. Approving needs submitted (or earlier rejected) documents;
/// rejecting needs a reason. The vendor is emailed through the job queue.
pub async fn review_kyc(
    conn: &impl ConnectionTrait,
    vendor_id: Uuid,
    approve: bool,
    reason: Option<String>,
) -> AppResult<vendors::Model> {
    let vendor = find(conn, vendor_id).await?;
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let (to, allowed_from): (KycStatus, &[KycStatus]) = if approve {
        (
            KycStatus::Approved,
            &[KycStatus::Submitted, KycStatus::Rejected],
        )
    } else {
        if reason.is_none() {
            return Err(AppError::bad_input("reason", "say why the KYC is rejected"));
        }
        (
            KycStatus::Rejected,
            &[KycStatus::Submitted, KycStatus::Approved],
        )
    };
    if !allowed_from.contains(&vendor.kyc_status) {
        return Err(AppError::InvalidTransition(format!(
            "KYC cannot go from {:?} to {:?}{}",
            vendor.kyc_status,
            to,
            if vendor.kyc_status == KycStatus::Pending {
                ": no documents were uploaded yet"
            } else {
                ""
            }
        )));
    }
    // Conditional on the status read above, so two admins deciding at once cannot both win.
    let updated = vendors::Entity::update_many()
        .col_expr(vendors::Column::KycStatus, Expr::value(to))
        .col_expr(
            vendors::Column::KycReason,
            Expr::value(if approve { None } else { reason }),
        )
        .col_expr(vendors::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(vendors::Column::Id.eq(vendor_id))
        .filter(vendors::Column::KycStatus.eq(vendor.kyc_status))
        .exec(conn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(AppError::Conflict(
            "the KYC status changed meanwhile; reload and try again".into(),
        ));
    }
    queue::enqueue(conn, &super::jobs::SendKycDecisionEmail { vendor_id }).await?;
    find(conn, vendor_id).await
}

/// Admin: sets a vendor's own commission rate, or `None` for the system default.
pub async fn set_commission(
    conn: &impl ConnectionTrait,
    vendor_id: Uuid,
    bps: Option<i32>,
) -> AppResult<vendors::Model> {
    if bps.is_some_and(|b| !(0..=10_000).contains(&b)) {
        return Err(AppError::bad_input(
            "commissionRateBps",
            "must be between 0 and 10000 basis points",
        ));
    }
    let mut vendor = find(conn, vendor_id).await?.into_active_model();
    vendor.commission_bps = Set(bps);
    vendor.updated_at = Set(Utc::now());
    Ok(vendor.update(conn).await?)
}

/// The commission a vendor pays, in basis points: its own rate or the system default.
pub async fn commission_bps(
    conn: &impl ConnectionTrait,
    vendor: &vendors::Model,
) -> AppResult<i64> {
    match vendor.commission_bps {
        Some(bps) => Ok(i64::from(bps)),
        None => settings::get(conn, Setting::CommissionRateBps).await,
    }
}

/// Admin listing: vendors (optionally in one KYC status), oldest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    status: Option<KycStatus>,
) -> AppResult<Vec<vendors::Model>> {
    let mut query = vendors::Entity::find();
    if let Some(status) = status {
        query = query.filter(vendors::Column::KycStatus.eq(status));
    }
    Ok(query
        .order_by_asc(vendors::Column::CreatedAt)
        .order_by_asc(vendors::Column::Id)
        .all(conn)
        .await?)
}
