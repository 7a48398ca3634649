//! `pickups`: a household selling scrap at its door to a vendor, by weight at locked rates. The
//! status changes only through the pickups transition table, by conditional updates.

use sea_orm::entity::prelude::*;

/// Where a pickup is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PickupStatus {
    /// Booked without a slot: offered to nearby vendors, none took it yet.
    #[sea_orm(string_value = "REQUESTED")]
    Requested,
    /// A vendor took it; the quote plus a margin is held from the vendor's wallet.
    #[sea_orm(string_value = "ASSIGNED")]
    Assigned,
    #[sea_orm(string_value = "EN_ROUTE")]
    EnRoute,
    #[sea_orm(string_value = "ARRIVED")]
    Arrived,
    /// Weighed: the final amount is known, the household holds the handover code.
    #[sea_orm(string_value = "WEIGHED")]
    Weighed,
    /// Paid: the final amount went to the household.
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    /// No vendor took the offer in time.
    #[sea_orm(string_value = "EXPIRED")]
    Expired,
    /// The household disputes the weighing; an admin resolves it.
    #[sea_orm(string_value = "DISPUTED")]
    Disputed,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pickups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub number: String,
    /// The user selling.
    pub household_id: Uuid,
    /// The vendor collecting; `None` while it is only offered.
    pub vendor_id: Option<Uuid>,
    pub slot_id: Option<Uuid>,
    pub status: PickupStatus,
    pub address_id: Option<Uuid>,
    pub address_label: String,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub address_city: String,
    pub address_state: String,
    pub address_pincode: String,
    pub address_latitude: f64,
    pub address_longitude: f64,
    pub note: Option<String>,
    /// Σ locked rate × estimated weight, in paise.
    pub quote: i64,
    /// The vendor's hold (quote plus margin), once a vendor took it.
    pub hold_id: Option<Uuid>,
    /// What the household gets, once weighed.
    pub final_amount: Option<i64>,
    /// The platform's commission on the final amount, charged to the vendor.
    pub commission: Option<i64>,
    pub commission_bps: Option<i32>,
    /// The one-time code the household gives the collector once paid for; set while WEIGHED.
    pub handover_code: Option<String>,
    /// Wrong handover codes tried.
    pub code_attempts: i32,
    /// Storage key of the photo of the scale.
    pub weighing_photo_key: Option<String>,
    /// Which round of offers is open (0 when booked into a slot).
    pub offer_round: i32,
    pub offer_expires_at: Option<DateTimeUtc>,
    /// The collector's last shared location (only the last point is kept).
    pub collector_latitude: Option<f64>,
    pub collector_longitude: Option<f64>,
    pub located_at: Option<DateTimeUtc>,
    pub dispute_reason: Option<String>,
    pub cancel_reason: Option<String>,
    pub idempotency_key: String,
    pub request_hash: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub weighed_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
