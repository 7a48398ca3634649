//! `recharges`: a user's request to add money through a payment provider.

use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RechargeStatus {
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "SUCCEEDED")]
    Succeeded,
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "recharges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub amount: i64,
    pub status: RechargeStatus,
    pub provider: String,
    /// Unique per user.
    pub idempotency_key: String,
    pub failure_reason: Option<String>,
    /// The provider's order for this recharge: a Razorpay order id or a Stripe PaymentIntent id.
    pub provider_order_id: Option<String>,
    /// The provider's payment that settled it.
    pub provider_payment_id: Option<String>,
    /// Stripe's PaymentIntent client secret, handed to the app that opens the payment sheet.
    pub client_secret: Option<String>,
    /// When it became SUCCEEDED or FAILED.
    pub settled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
